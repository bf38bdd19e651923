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
    events that one has processed: later stages read only stamped events. One with
    a `reads` attribute (an `EventFilter`; None reads everything) is handed only
    the events it lets through, and its cursor moves past the others.
    """

    name: str

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        """Apply the batch's effects in `tx`; the cursor advances in the same transaction."""
        ...


def run_once(db: Database, clock: Clock, consumer: Consumer, limit: int = 1000) -> int:
    """Process the next batch for `consumer`; returns how many events it held."""
    # Not durable: a batch lost to a power cut is redone from the (durable) log.
    with db.write(durable=False) as tx:
        batch = tx.events.poll(
            consumer.name,
            limit,
            clock.now(),
            after=getattr(consumer, "after", None),
            reads=getattr(consumer, "reads", None),
        )
        if batch.events:
            consumer.handle(tx, batch)
        tx.events.advance(batch)
    return len(batch.events)


def drain(db: Database, clock: Clock, consumers: Sequence[Consumer], limit: int = 1000) -> int:
    """Run every consumer until none has anything left; returns events processed.

    Each consumer polls once, in order; after that only those that may have more:
    a consumer whose last batch was full, one with an upstream stage (`after`) that
    has processed events since it last polled, and one reading the log directly
    once any consumer has processed events since (handling appends events:
    `journey.entered`, `audience.entered`, merges). The others would poll empty.
    """
    total = 0
    done: dict[str, int] = {c.name: 0 for c in consumers}
    """Events each consumer has processed so far in this drain."""
    seen: dict[str, int] = {}
    """What each consumer's upstream had processed (or all, without one) when it polled."""
    full: set[str] = set()
    while True:
        ran = 0
        for consumer in consumers:
            upstream = getattr(consumer, "after", None)
            mark = done.get(upstream, 0) if upstream is not None else total
            name = consumer.name
            if name in seen and name not in full and seen[name] == mark:
                continue  # nothing new can have reached it
            seen[consumer.name] = mark
            count = run_once(db, clock, consumer, limit)
            done[consumer.name] += count
            total += count
            ran += count
            if count >= limit:
                full.add(consumer.name)
            else:
                full.discard(consumer.name)
        if ran == 0:
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
