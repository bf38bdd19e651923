"""The dispatcher: claims due messages, runs the pipeline, renders, sends, records.

One batch: (1) in one transaction, claim due messages (with a lease), run the
stages, record skips, deferrals and failures with their outcome events, and
count the admitted messages against caps (on SQLite, workspaces without caps
are judged after the claim commits, and their verdicts are written in step 4:
the claim holds SQLite's one write lock, which other dispatcher processes wait
for); (2) render; (3) send through each channel's provider, several at once;
(4) in one transaction, record what the providers answered, with outcome
events. A crash anywhere loses nothing: a claimed message whose dispatcher died
is claimed again when its lease ends, and resent with the same message id (its
Message-ID and idempotency key). Any number of dispatchers, in any number of
processes, may share an outbox: a claimed message is leased to one of them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from liquid.exceptions import LiquidError

from clarion.channels.base import Provider, SendResult, SendStatus
from clarion.clock import Clock
from clarion.delivery.outcomes import outcome_event
from clarion.delivery.pace import BatchPace
from clarion.delivery.pipeline.address import AddressStage
from clarion.delivery.pipeline.candidate import Candidate, Decision, StageContext, run_stages
from clarion.delivery.pipeline.caps import FrequencyCapStage, cap_rules
from clarion.delivery.pipeline.consent import ConsentStage
from clarion.delivery.pipeline.quiet_hours import QuietHoursStage
from clarion.delivery.pipeline.send_time import SendTimeOptimizer, SendTimeStage
from clarion.delivery.pipeline.suppression import SuppressionStage
from clarion.delivery.pipeline.throttle import ThrottleStage
from clarion.delivery.providers import ProviderRegistry
from clarion.delivery.render import render
from clarion.delivery.templates import TemplateError, TemplateStore
from clarion.delivery.tracking import Links
from clarion.delivery.writelock import DispatchWriter
from clarion.model.errors import NotFound
from clarion.model.events import NewEvent
from clarion.model.messages import QueuedMessage, RenderedMessage
from clarion.model.outcomes import Outcome
from clarion.storage.base import ClaimedBatch, Database, Tx


@dataclass
class _Ready:
    candidate: Candidate
    key: str
    configs: dict[str, tuple[str, dict[str, Any]]]
    message: RenderedMessage | None = None
    error: str | None = None
    provider: str | None = None


@dataclass(frozen=True)
class _Write:
    """Messages for a provider that stores them in the record transaction: each is sent
    exactly when that transaction commits (`write_in` answers nothing)."""

    write_in: Callable[[Tx, Sequence[RenderedMessage], datetime], None]
    messages: list[RenderedMessage]


@dataclass
class _Verdicts:
    """What judging decided besides sending (deferrals, skips, failures, their outcome
    events, cap counts), to write in the claim transaction or in the record one."""

    now: datetime
    deferred: list[tuple[str, datetime, str]] = field(default_factory=list)
    retried: list[tuple[str, datetime, str]] = field(default_factory=list)
    """Sends that failed and are tried again (an attempt spent, unlike `deferred`)."""
    finished: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, list[NewEvent]] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    uncounted: list[str] = field(default_factory=list)
    """Messages whose cap slot is given back (not sent after all)."""

    def __bool__(self) -> bool:
        return bool(
            self.deferred
            or self.retried
            or self.finished
            or self.events
            or self.ledger
            or self.uncounted
        )

    def write(self, tx: Tx) -> None:
        """Write them all in `tx`."""
        for message_id, until, reason in self.deferred:
            tx.outbox.defer(message_id, until, self.now, reason)
        for message_id, until, reason in self.retried:
            tx.outbox.defer(message_id, until, self.now, reason, retry=True)
        tx.outbox.finish_many(self.finished, self.now)
        if self.ledger:
            tx.ledger.count(self.ledger)
        for message_id in self.uncounted:
            tx.ledger.uncount(message_id)
        for workspace_id, events in self.events.items():
            tx.events.append(workspace_id, events, self.now, seqs=False)


@dataclass
class DispatchStats:
    """What one batch did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    failed: int = 0
    retried: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class Leased:
    """`ClaimedBatch` over messages a dispatcher holds already (queued leased to it)."""

    def __init__(self, messages: Sequence[QueuedMessage]) -> None:
        self._by_workspace: dict[str, list[QueuedMessage]] = {}
        for message in sorted(messages, key=lambda m: m.due_at_us):
            self._by_workspace.setdefault(message.intent.workspace_id, []).append(message)
        self._count = len(messages)

    def __len__(self) -> int:
        return self._count

    def workspaces(self) -> list[str]:
        return list(self._by_workspace)

    def messages(self, workspace_id: str) -> list[QueuedMessage]:
        return list(self._by_workspace.get(workspace_id, ()))


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


class Dispatcher:
    """Moves messages from the outbox to providers."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        providers: ProviderRegistry,
        templates: TemplateStore,
        *,
        public_url: str,
        batch_size: int = 2000,
        lease_seconds: float = 120,
        max_attempts: int = 8,
        send_concurrency: int = 32,
        send_time: SendTimeOptimizer | None = None,
    ) -> None:
        self.db, self.clock, self.providers, self.templates = db, clock, providers, templates
        self.public_url = public_url.rstrip("/")
        self.batch_size, self.lease_seconds = batch_size, lease_seconds
        self._pace = BatchPace(lease_seconds)
        self.max_attempts, self.send_concurrency = max_attempts, send_concurrency
        self._throttle = ThrottleStage()
        self._send_time = send_time
        self._writer = DispatchWriter(db)
        self._judge_apart_ok = db.dialect == "sqlite"
        self._judging = threading.Lock()  # stages keep state (throttle buckets)

    def _stages(self) -> tuple[list[Any], FrequencyCapStage]:
        caps = FrequencyCapStage()
        # Caps run after quiet hours and send time: a held message is judged
        # (and counted) when it is released, as every stage runs again then.
        return [
            AddressStage(),
            ConsentStage(),
            SuppressionStage(),
            QuietHoursStage(),
            SendTimeStage(self._send_time),
            caps,
            self._throttle,
        ], caps

    async def run_once(self) -> DispatchStats:
        """Process one batch; `claimed == 0` means nothing was due."""
        stats = DispatchStats()
        started = self.clock.now()
        ready, verdicts = await asyncio.to_thread(self._claim_and_judge, stats)
        await self._deliver(ready, verdicts, stats)
        if ready:
            self._pace.observe(stats.claimed, (self.clock.now() - started).total_seconds())
        return stats

    async def dispatch_leased(self, messages: Sequence[QueuedMessage]) -> DispatchStats:
        """Send messages that were queued already leased to this dispatcher (handed to
        it by the transaction that queued them, `enqueue_now`): as a claimed batch,
        without the claim."""
        stats = DispatchStats()
        ready, verdicts = await asyncio.to_thread(self._judge_leased, Leased(messages), stats)
        await self._deliver(ready, verdicts, stats)
        return stats

    async def _deliver(
        self, ready: list[_Ready], verdicts: _Verdicts, stats: DispatchStats
    ) -> None:
        """Render, send and record a judged batch."""
        if not ready:
            if verdicts:
                await asyncio.to_thread(self._record, [], {}, [], stats, verdicts)
            return
        for item in ready:
            try:
                links = (
                    Links(
                        self.public_url,
                        item.key,
                        item.candidate.item.intent.workspace_id,
                        item.candidate.item.id,
                    )
                    if item.candidate.marketing
                    else None
                )
                item.message = render(item.candidate, links)
            except LiquidError as exc:
                item.error = f"render_error: {exc}"
        results, writes = await self._send([r for r in ready if r.message is not None])
        await asyncio.to_thread(self._record, ready, results, writes, stats, verdicts)

    # --- 1. claim and judge ------------------------------------------------

    def _claim_and_judge(self, stats: DispatchStats) -> tuple[list[_Ready], _Verdicts]:
        """Claim a batch and judge it; returns the messages to send, and the verdicts on
        the rest that are still to be written (with the batch's outcomes).

        On SQLite the claim transaction holds the database's only write lock, which
        other dispatcher processes wait for; there, workspaces without frequency caps
        are judged after it commits, in a read transaction (their stages only read).
        Caps are judged where they are counted, in the claim transaction, so that two
        dispatchers cannot both take a profile's last slot.
        """
        now = self.clock.now()
        # Woken by every commit, a dispatcher often finds nothing: find that out in a
        # read, which on SQLite takes no lock, rather than in the claim's write transaction.
        with self.db.read() as tx:
            if not tx.outbox.anything_due(now):
                return [], _Verdicts(now)
        with self._writer.write() as tx:
            size = self._pace.size(self.batch_size)
            claimed = tx.outbox.claim_batch(size, now, self.lease_seconds)
            stats.claimed = len(claimed)
            workspaces = self._workspaces(tx, claimed)
            ready, apart = self._judge_locked(tx, claimed, workspaces, now, stats)
        return self._judge_apart(claimed, apart, ready, now, stats)

    def _judge_leased(self, batch: Leased, stats: DispatchStats) -> tuple[list[_Ready], _Verdicts]:
        """`_claim_and_judge` for messages this dispatcher already holds: a write
        transaction only where caps are counted (or the database is not SQLite)."""
        now = self.clock.now()
        stats.claimed = len(batch)
        with self.db.read() as tx:
            workspaces = self._workspaces(tx, batch)
            if self._judge_apart_ok and not any(cap_rules(s) for _, s, _ in workspaces):
                verdicts = _Verdicts(now)  # no write needed: judged in this same read
                return self._judge_in(tx, batch, workspaces, verdicts, stats), verdicts
        with self._writer.write() as tx:
            ready, apart = self._judge_locked(tx, batch, workspaces, now, stats)
        return self._judge_apart(batch, apart, ready, now, stats)

    @staticmethod
    def _workspaces(tx: Tx, batch: ClaimedBatch) -> list[tuple[str, dict[str, Any], str]]:
        """(workspace, its settings, its signing key) for each workspace in `batch`."""
        return [
            (workspace_id, tx.workspaces.settings(workspace_id), tx.signing_key(workspace_id))
            for workspace_id in sorted(batch.workspaces())
        ]

    def _judge_locked(
        self,
        tx: Tx,
        batch: ClaimedBatch,
        workspaces: list[tuple[str, dict[str, Any], str]],
        now: datetime,
        stats: DispatchStats,
    ) -> tuple[list[_Ready], list[tuple[str, dict[str, Any], str]]]:
        """Judge in the write transaction `tx` the workspaces that must be (all but
        those that `_judge_apart` may take), writing their verdicts; returns the
        messages to send and the workspaces left to judge apart."""
        verdicts = _Verdicts(now)
        ready: list[_Ready] = []
        apart = []
        for workspace_id, settings, key in workspaces:
            if self._judge_apart_ok and not cap_rules(settings):
                apart.append((workspace_id, settings, key))
                continue
            items = batch.messages(workspace_id)
            ready.extend(self._judge(tx, workspace_id, items, settings, key, verdicts, stats))
        verdicts.write(tx)
        return ready, apart

    def _judge_apart(
        self,
        batch: ClaimedBatch,
        apart: list[tuple[str, dict[str, Any], str]],
        ready: list[_Ready],
        now: datetime,
        stats: DispatchStats,
    ) -> tuple[list[_Ready], _Verdicts]:
        """Judge the workspaces left by `_judge_locked` in a read transaction (no lock
        held); their verdicts are returned, to be written with the batch's outcomes."""
        verdicts = _Verdicts(now)
        if apart:
            with self.db.read() as tx:
                ready.extend(self._judge_in(tx, batch, apart, verdicts, stats))
        return ready, verdicts

    def _judge_in(
        self,
        tx: Tx,
        batch: ClaimedBatch,
        workspaces: list[tuple[str, dict[str, Any], str]],
        verdicts: _Verdicts,
        stats: DispatchStats,
    ) -> list[_Ready]:
        """Judge these workspaces' messages of `batch` in `tx`, collecting `verdicts`."""
        ready: list[_Ready] = []
        for workspace_id, settings, key in workspaces:
            items = batch.messages(workspace_id)
            ready.extend(self._judge(tx, workspace_id, items, settings, key, verdicts, stats))
        return ready

    def _judge(
        self,
        tx: Tx,
        workspace_id: str,
        items: list[QueuedMessage],
        workspace_settings: dict[str, Any],
        key: str,
        verdicts: _Verdicts,
        stats: DispatchStats,
    ) -> list[_Ready]:
        """Run the stages over one workspace's messages: those to send, with their
        verdicts on the others added to `verdicts`."""
        now = verdicts.now
        configs = tx.channel_configs(workspace_id)
        settings = {
            **workspace_settings,
            "channels": {ch: {"provider": p, **s} for ch, (p, s) in configs.items()},
        }
        fragments = self.templates.fragments(tx, workspace_id)
        compiled: dict[tuple[str, int | None], Any] = {}
        candidates = []
        for item in items:
            candidate = Candidate(item)
            intent = item.intent
            try:
                version_key = (intent.template, intent.template_version)
                if version_key not in compiled:  # once per template version and batch
                    compiled[version_key] = self.templates.get(
                        tx, workspace_id, intent.template, intent.template_version, fragments
                    )
                candidate.template = compiled[version_key]
                if candidate.template.channel != intent.channel:
                    candidate.decision = Decision("fail", "template_channel_mismatch")
                group = intent.subscription_group or candidate.template.spec.get(
                    "subscription_group"
                )
                candidate.group = group if isinstance(group, str) else None
            except NotFound:
                candidate.decision = Decision("fail", "template_not_found")
            except TemplateError as exc:
                candidate.decision = Decision("fail", f"template_error: {exc}")
            candidates.append(candidate)
        ctx = StageContext(tx, workspace_id, now, settings)
        stages, caps = self._stages()
        with self._judging:
            run_stages(ctx, stages, candidates)
        events: list[NewEvent] = []
        for candidate in candidates:
            decision = candidate.decision
            if decision is None:
                continue
            stats.reasons[decision.reason] = stats.reasons.get(decision.reason, 0) + 1
            version = candidate.template.version if candidate.template else None
            if decision.kind == "defer":
                assert decision.until is not None
                verdicts.deferred.append((candidate.item.id, decision.until, decision.reason))
                stats.deferred += 1
                continue
            status, outcome = (
                ("skipped", Outcome.SKIPPED)
                if decision.kind == "skip"
                else ("failed", Outcome.FAILED)
            )
            verdicts.finished.append(
                {"id": candidate.item.id, "status": status, "reason": decision.reason}
            )
            events.append(
                outcome_event(
                    candidate.item.intent,
                    outcome,
                    now,
                    template_version=version,
                    reason=decision.reason,
                )
            )
            if decision.kind == "skip":
                stats.skipped += 1
            else:
                stats.failed += 1
        verdicts.ledger.extend(caps.ledger_rows(ctx))
        if events:
            verdicts.events.setdefault(workspace_id, []).extend(events)
        return [_Ready(c, key, configs) for c in candidates if c.decision is None]

    # --- 3. send -----------------------------------------------------------

    async def _send(self, ready: Sequence[_Ready]) -> tuple[dict[str, SendResult], list[_Write]]:
        """Send through each provider. Providers whose sending is a database write
        (`write_in`, the capture provider) are left for the record transaction."""
        by_provider: dict[int, tuple[Provider, list[RenderedMessage]]] = {}
        resolved: dict[tuple[str, int], Provider] = {}
        for item in ready:
            assert item.message is not None
            key = (item.message.channel, id(item.configs))  # one resolve per batch
            provider = resolved.get(key)
            if provider is None:
                provider = resolved[key] = self.providers.resolve(key[0], item.configs)
            item.provider = provider.name
            by_provider.setdefault(id(provider), (provider, []))[1].append(item.message)
        results: dict[str, SendResult] = {}
        writes: list[_Write] = []
        singles: list[tuple[Provider, RenderedMessage]] = []
        jobs: list[Coroutine[Any, Any, None]] = []

        async def batch(send_many: Any, messages: list[RenderedMessage]) -> None:
            try:
                answers = await send_many(messages)
            except Exception as exc:  # retried, never lost
                answers = [
                    SendResult(SendStatus.TRANSIENT, error=f"provider error: {exc!r}")
                    for _ in messages
                ]
            results.update({m.message_id: r for m, r in zip(messages, answers, strict=True)})

        for provider, messages in by_provider.values():
            write_in = getattr(provider, "write_in", None)
            send_many = getattr(provider, "send_many", None)
            if write_in is not None:
                writes.append(_Write(write_in, messages))
            elif send_many is not None:
                jobs.append(batch(send_many, messages))
            else:
                singles.extend((provider, m) for m in messages)
        queue = iter(singles)

        async def sender() -> None:
            # `send_concurrency` of these take the messages in turn: no task per message.
            for provider, message in queue:
                try:
                    results[message.message_id] = await provider.send(message)
                except Exception as exc:  # a provider bug must not lose the message
                    results[message.message_id] = SendResult(
                        SendStatus.TRANSIENT, error=f"provider error: {exc!r}"
                    )

        jobs.extend(sender() for _ in range(min(self.send_concurrency, len(singles))))
        await asyncio.gather(*jobs)
        return results, writes

    # --- 4. record ---------------------------------------------------------

    def _record(
        self,
        ready: Sequence[_Ready],
        results: dict[str, SendResult],
        writes: Sequence[_Write],
        stats: DispatchStats,
        verdicts: _Verdicts,
    ) -> None:
        # What was sent is worked out before the write transaction: on SQLite it holds
        # the database's only write lock, which the other dispatchers are waiting for.
        outcomes = _Verdicts(self.clock.now())
        now = outcomes.now
        for write in writes:
            results.update(
                {
                    m.message_id: SendResult(SendStatus.SENT, provider_message_id=m.message_id)
                    for m in write.messages
                }
            )
        for item in ready:
            candidate = item.candidate
            intent = candidate.item.intent
            version = candidate.template.version if candidate.template else None
            result = results.get(candidate.item.id)
            if item.error is not None or result is None:
                result = SendResult(SendStatus.PERMANENT, error=item.error or "not sent")
            outcome: Outcome | None = None
            extra: dict[str, Any] = {}
            if result.status is SendStatus.SENT:
                outcomes.finished.append(
                    {
                        "id": candidate.item.id,
                        "status": "sent",
                        "provider": item.provider,
                        "provider_message_id": result.provider_message_id,
                        "sent_to": candidate.address,
                    }
                )
                outcome = Outcome.SENT
                stats.sent += 1
            else:
                outcomes.uncounted.append(candidate.item.id)
                if (
                    result.status is SendStatus.TRANSIENT
                    and candidate.item.attempts < self.max_attempts
                ):
                    wait = (
                        timedelta(seconds=result.retry_after_seconds)
                        if result.retry_after_seconds
                        else backoff(candidate.item.attempts)
                    )
                    outcomes.retried.append(
                        (candidate.item.id, now + wait, f"retry: {result.error}")
                    )
                    stats.retried += 1
                else:
                    outcomes.finished.append(
                        {
                            "id": candidate.item.id,
                            "status": "failed",
                            "reason": result.error or result.status.value,
                        }
                    )
                    outcome, extra = Outcome.FAILED, {"reason": result.error or "failed"}
                    stats.failed += 1
            if outcome is not None:
                outcomes.events.setdefault(intent.workspace_id, []).append(
                    outcome_event(intent, outcome, now, template_version=version, **extra)
                )
        with self._writer.write() as tx:
            verdicts.write(tx)
            for write in writes:
                write.write_in(tx, write.messages, now)
            outcomes.write(tx)
