"""The journey consumer: reads the stamped event log after the identity stage."""

from __future__ import annotations

import itertools

from clarion.clock import Clock
from clarion.journeys.engine import JourneyEngine
from clarion.profiles import IDENTITY_STAGE
from clarion.storage.base import ConsumerBatch, EventFilter, Tx

JOURNEY_CONSUMER = "journeys"


class JourneyConsumer:
    """Routes each event to journey entries and to the instances it concerns (a `Consumer`)."""

    name = JOURNEY_CONSUMER
    after = IDENTITY_STAGE

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.messages_queued = 0
        self._written = 0
        self._known = 0

    def reads_in(self, tx: Tx) -> EventFilter | None:
        """Nothing while no workspace has a journey that moves (`handle` would skip every
        event); else everything, as waiting walks may react to any event name."""
        return None if tx.journeys.any_running() else EventFilter.nothing()

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        now = self._clock.now()
        events = sorted(batch.events, key=lambda e: e.workspace_id)
        for workspace_id, group in itertools.groupby(events, key=lambda e: e.workspace_id):
            engine = JourneyEngine(tx, workspace_id, now)
            if not engine.catalog.journeys:
                continue
            stamped = [e for e in group if e.profile_id is not None]
            # Every event is still offered: one may concern a walk that starts waiting
            # for it earlier in this batch (its profile is loaded by then).
            engine.uow.prefetch(e.profile_id for e in engine.routed(stamped) if e.profile_id)
            for event in stamped:
                engine.on_event(event)
            engine.flush()
            self.messages_queued += engine.messages_queued
            self._written += engine.instances_written
        if self._written > max(2_000, self._known):  # each time the tables about double
            tx.journeys.refresh_statistics()
            self._known += self._written
            self._written = 0
