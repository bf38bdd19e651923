"""Running log consumers: each batch and its cursor commit in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clarion.clock import Clock
from clarion.processing.background import BackgroundLoop
from clarion.storage.base import ConsumerBatch, Database, Tx


class Consumer(Protocol):
    """Something that processes the event log in order, from its own cursor.

    A consumer with an `after` attribute (another consumer's name) sees only the
    events that one has processed: later stages read only stamped events.
    """

    name: str

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        """Apply the batch's effects in `tx`; the cursor advances in the same transaction."""
        ...


def run_once(db: Database, clock: Clock, consumer: Consumer, limit: int = 1000) -> int:
    """Process the next batch for `consumer`; returns how many events it held."""
    with db.write() as tx:
        batch = tx.events.poll(
            consumer.name, limit, clock.now(), after=getattr(consumer, "after", None)
        )
        if batch.events:
            consumer.handle(tx, batch)
        tx.events.advance(batch)
    return len(batch.events)


def drain(db: Database, clock: Clock, consumers: Sequence[Consumer], limit: int = 1000) -> int:
    """Run every consumer until none has anything left; returns events processed."""
    total = 0
    while True:
        done = sum(run_once(db, clock, c, limit) for c in consumers)
        total += done
        if done == 0:
            return total


class ConsumerLoop(BackgroundLoop):
    """Runs consumers in a background thread until stopped (the embedded mode).

    `wake()` (called after an append) makes it poll at once; otherwise it polls
    every `idle_seconds`.
    """

    thread_name = "clarion-consumers"
    join_seconds = 30.0

    def __init__(
        self,
        db: Database,
        clock: Clock,
        consumers: Sequence[Consumer],
        idle_seconds: float = 0.2,
    ) -> None:
        super().__init__(idle_seconds)
        self._db = db
        self._clock = clock
        self._consumers = list(consumers)

    def tick(self) -> bool:
        """Drain every consumer; True if any event was processed."""
        return drain(self._db, self._clock, self._consumers) > 0
