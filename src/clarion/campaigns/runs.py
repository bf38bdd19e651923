"""Working on runs: snapshot the audience, queue recipients in bulk, notice the end.

A run goes `pending -> snapshotting -> sending -> delivering -> completed`:

- **snapshot**: the audience is evaluated with the SQL compiler (its count and
  time are recorded), every recipient gets a send time (`campaigns.plan`) and a
  message id, and the snapshot is stored in chunks. A crash while
  `snapshotting` redoes the snapshot from scratch (nothing was queued yet);
- **sending**: recipients whose send time is near are queued into the outbox,
  `chunk` at a time, each chunk in ONE transaction with the run's cursor, by one
  INSERT ... SELECT from the snapshot (no Python per recipient). A
  crash resumes at the cursor; a chunk replayed anyway queues nothing twice,
  since each recipient's message id is stored with the snapshot;
- **delivering**: everything is queued; messages the pipeline held back (quiet
  hours, throttling, retries) past the time limit are skipped (`time_limit`),
  and the run completes when no message of it is still pending in the outbox.

Runs are leased, so several workers can share them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from clarion.campaigns.audience import snapshot
from clarion.campaigns.lifecycle import settle
from clarion.campaigns.pinned import Pinned
from clarion.campaigns.plan import TIME_LIMIT, plan_run
from clarion.campaigns.schedule import Occurrence
from clarion.clock import Clock, to_micros
from clarion.model.messages import message_ids_in_order
from clarion.storage.base import Database
from clarion.storage.campaigns import CampaignRun


def _nothing() -> None:
    return None


@dataclass
class RunStats:
    """What one pass of the worker did."""

    runs: int = 0
    snapshots: int = 0
    queued: int = 0
    completed: int = 0


def pinned_for(run: CampaignRun) -> Pinned:
    return Pinned.from_json(run.campaign_id, run.campaign_name, run.version, run.settings)


class RunWorker:
    """Advances due runs. `step()` does one pass; `wake` tells the dispatcher to look."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        chunk: int = 5000,
        snapshot_chunk: int = 20_000,
        lookahead: timedelta = timedelta(seconds=10),
        lease: timedelta = timedelta(seconds=120),
        check_every: timedelta = timedelta(seconds=5),
        wake: Callable[[], None] = _nothing,
    ) -> None:
        self.db, self.clock = db, clock
        self.chunk, self.snapshot_chunk = chunk, snapshot_chunk
        self.lookahead_us = int(lookahead.total_seconds() * 1e6)
        self.lease_us = int(lease.total_seconds() * 1e6)
        self.check_us = int(check_every.total_seconds() * 1e6)
        self.wake = wake
        self.on_progress: Callable[[CampaignRun], None] = lambda run: None

    def step(self, max_chunks: int = 20) -> RunStats:
        """Claim due runs and work on each (at most `max_chunks` chunks per run)."""
        stats = RunStats()
        now_us = to_micros(self.clock.now())
        with self.db.write() as tx:
            runs = tx.campaigns.claim_runs(now_us, 8, now_us + self.lease_us)
        for run in runs:
            stats.runs += 1
            self._work(run, stats, max_chunks)
        return stats

    def _work(self, run: CampaignRun, stats: RunStats, max_chunks: int) -> None:
        if run.status in ("pending", "snapshotting"):
            self._snapshot(run)
            stats.snapshots += 1
        for _ in range(max_chunks):
            if run.status != "sending" or run.next_at_us > to_micros(self.clock.now()):
                break
            queued = self._queue_chunk(run)
            stats.queued += queued
            if queued:
                self.wake()
        if run.status == "delivering" and run.next_at_us <= to_micros(self.clock.now()):
            self._check_done(run)
            stats.completed += run.status == "completed"
        with self.db.write() as tx:
            current = tx.campaigns.run(run.workspace_id, run.id, lock=True)
            if current is not None and current.status == run.status:
                tx.campaigns.save_run(run)  # releases the lease

    # --- snapshot --------------------------------------------------------------

    def _snapshot(self, run: CampaignRun) -> None:
        now = self.clock.now()
        with self.db.write() as tx:
            run.status, run.updated_at = "snapshotting", now
            tx.campaigns.save_run(run, lease_us=to_micros(now) + self.lease_us)
            tx.campaigns.clear_recipients(run.id)  # a crash mid-snapshot starts over
        pinned = pinned_for(run)
        with self.db.read() as tx:
            found = snapshot(tx, run.workspace_id, pinned.spec, now)
            zones = (
                tx.campaigns.timezones(run.workspace_id, found.members)
                if run.occurrence.get("local_time")
                else {}
            )
        occurrence = Occurrence.from_json(run.occurrence)
        plan = plan_run(pinned.spec, occurrence, found.members, zones, to_micros(now), run.id)
        source = pinned.source(run.id)
        ids = message_ids_in_order(run.workspace_id, source, len(plan.recipients))
        rows = [
            (position, pid, due, ids[position])
            for position, (pid, due) in enumerate(plan.recipients)
        ]
        for start in range(0, len(rows), self.snapshot_chunk):
            with self.db.write() as tx:
                tx.campaigns.add_recipients(
                    run.workspace_id, run.id, rows[start : start + self.snapshot_chunk]
                )
                tx.campaigns.save_run(run, lease_us=to_micros(self.clock.now()) + self.lease_us)
        run.snapshot_at, run.targeted, run.excluded = now, found.targeted, found.excluded
        run.recipients, run.queued, run.skipped = len(rows), 0, dict(plan.skipped)
        run.status = "sending" if rows else "delivering"
        run.next_at_us = rows[0][2] - self.lookahead_us if rows else to_micros(now)
        run.updated_at = self.clock.now()
        with self.db.write() as tx:
            tx.campaigns.save_run(run, lease_us=to_micros(run.updated_at) + self.lease_us)
        self.on_progress(run)

    # --- queueing ----------------------------------------------------------------

    def _queue_chunk(self, run: CampaignRun) -> int:
        now = self.clock.now()
        now_us = to_micros(now)
        pinned = pinned_for(run)
        with self.db.write() as tx:
            current = tx.campaigns.run(run.workspace_id, run.id, lock=True)
            if current is None or current.status != "sending":
                run.status = current.status if current else "failed"
                return 0
            start = current.queued
            current.queued = tx.campaigns.queue_recipients(
                run.id,
                start,
                self.chunk,
                now_us + self.lookahead_us,
                pinned.run_message(run.id),
                now,
            )
            following = tx.campaigns.next_due(run.id, current.queued)
            if following is None:
                current.status, current.next_at_us = "delivering", now_us
            else:
                current.next_at_us = following - self.lookahead_us
            current.updated_at = now
            tx.campaigns.save_run(current, lease_us=now_us + self.lease_us)
        run.queued, run.status, run.next_at_us = current.queued, current.status, current.next_at_us
        self.on_progress(run)
        return current.queued - start

    # --- the end -----------------------------------------------------------------

    def _check_done(self, run: CampaignRun) -> None:
        now = self.clock.now()
        limit = pinned_for(run).spec.time_limit
        with self.db.write() as tx:
            # What the pipeline held back (quiet hours, throttling, retries) past the
            # time limit is not sent any more.
            tx.campaigns.expire(run.id, to_micros(now - limit), TIME_LIMIT, now)
            busy = tx.campaigns.unfinished(run.id)
        if busy:
            run.next_at_us = to_micros(now) + self.check_us
            return
        with self.db.write() as tx:
            current = tx.campaigns.run(run.workspace_id, run.id, lock=True)
            if current is None or current.status != "delivering":
                return
            run.status, run.completed_at, run.updated_at = "completed", now, now
            tx.campaigns.save_run(run)
            settle(tx, run, now)


def drain_runs(worker: RunWorker, limit: int = 10_000) -> RunStats:
    """Step until no run has work due now (tests and `clarion campaigns run`)."""
    total = RunStats()
    for _ in range(limit):
        stats = worker.step()
        for name in ("runs", "snapshots", "queued", "completed"):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
        if stats.snapshots + stats.queued + stats.completed == 0:
            break
    return total
