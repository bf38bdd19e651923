"""The audience consumer: keeps memberships current from the stamped event log."""

from __future__ import annotations

import itertools

from clarion.audiences.membership.evaluate import reevaluate
from clarion.audiences.membership.index import MEMBERSHIP_EVENTS, IndexCache
from clarion.clock import Clock
from clarion.profiles import IDENTITY_STAGE
from clarion.storage.base import ConsumerBatch, EventFilter, Tx

AUDIENCE_CONSUMER = "audiences"


class AudienceConsumer:
    """Re-evaluates only the audiences an event can affect (a log `Consumer`)."""

    name = AUDIENCE_CONSUMER
    after = IDENTITY_STAGE

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._indexes = IndexCache()
        self._evaluated = 0  # pairs evaluated since the tables' statistics were refreshed
        self._known = 0  # pairs evaluated before that

    def reads_in(self, tx: Tx) -> EventFilter | None:
        """Nothing while no workspace has an audience (`handle` would skip every event);
        never membership events, its own output: they change no live audience (see
        `AudienceIndex.affected`)."""
        if not tx.documents.any_of_kind("audience"):
            return EventFilter.nothing()
        return EventFilter.all_but(*MEMBERSHIP_EVENTS)

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        now = self._clock.now()
        events = sorted(batch.events, key=lambda e: e.workspace_id)
        for workspace_id, group in itertools.groupby(events, key=lambda e: e.workspace_id):
            index = self._indexes.get(tx, workspace_id)
            if not index.audiences:
                continue
            # Each affected (profile, audience) pair once per batch, in the order the batch
            # first affects it: evaluated on the stored state, which holds every event of it.
            pairs: dict[tuple[str, str], None] = {}
            for event in group:
                pid = event.profile_id
                if pid is None:
                    continue
                if event.event == "profile.merged":
                    merged = str(event.properties.get("merged_id"))
                    for name in tx.audiences.memberships(workspace_id, [merged]).get(merged, set()):
                        tx.audiences.remove(workspace_id, name, [merged])
                for audience in index.affected(event):
                    pairs[(pid, audience)] = None
            reevaluate(tx, workspace_id, index, pairs, now)
            self._evaluated += len(pairs)
        # Pairs bound the rows written: refresh once they may have tripled the tables
        # (a few times in a consumer's life, each costing a sample of the tables).
        if self._evaluated > max(10_000, 2 * self._known):
            tx.audiences.refresh_statistics()
            self._known += self._evaluated
            self._evaluated = 0
