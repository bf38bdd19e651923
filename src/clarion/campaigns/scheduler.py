"""The scheduler: turns due occurrences into runs, durably, on the injected clock.

Schedule state lives in the database (`campaign_states.next_fire_at`), so a
restarted process carries on where the last one stopped: the occurrence that fell
due while nothing ran is fired late (its run records when it was due; older
missed ones are not replayed), and one occurrence never yields two runs (a
unique key on campaign and occurrence).
"""

from __future__ import annotations

from clarion.campaigns.lifecycle import new_run, pinned_of
from clarion.campaigns.runs import RunWorker
from clarion.campaigns.schedule import Occurrence, next_occurrence
from clarion.clock import Clock, to_micros
from clarion.processing.background import BackgroundLoop
from clarion.storage.base import Database


def fire_due(db: Database, clock: Clock, limit: int = 100) -> int:
    """Create the runs of every due occurrence and schedule the next ones; returns how many."""
    now = clock.now()
    fired = 0
    with db.write() as tx:
        for state in tx.campaigns.due_states(to_micros(now), limit):
            if state.next_occurrence is None or state.anchor_at is None:
                continue
            occurrence = Occurrence.from_json(state.next_occurrence)
            if tx.campaigns.create_run(new_run(state, occurrence, "schedule", now)):
                fired += 1
            schedule = pinned_of(state).spec.schedule
            following = (
                next_occurrence(schedule, max(occurrence.fire_at, now), state.anchor_at)
                if schedule is not None and schedule.recurring
                else None
            )
            state.status = "running"
            state.next_fire_us = to_micros(following.fire_at) if following else None
            state.next_occurrence = following.as_json() if following else None
            tx.campaigns.put_state(state, now)
    return fired


class CampaignLoop(BackgroundLoop):
    """A thread that fires schedules and works on runs until stopped.

    `wake()` (after an activation) makes it look at once; otherwise it looks
    every `idle_seconds`.
    """

    thread_name = "clarion-campaigns"

    def __init__(self, worker: RunWorker, idle_seconds: float = 0.5) -> None:
        super().__init__(idle_seconds)
        self.worker = worker

    def tick(self) -> bool:
        """One pass: fire due schedules, then advance due runs. True if it did anything."""
        fired = fire_due(self.worker.db, self.worker.clock)
        stats = self.worker.step()
        return bool(fired or stats.snapshots or stats.queued or stats.completed)
