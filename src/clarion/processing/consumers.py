"""Running log consumers: each batch and its cursor commit in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast

from clarion.clock import Clock
from clarion.processing.background import BackgroundLoop
from clarion.storage.base import ConsumerBatch, Database, EventFilter, Tx


class Consumer(Protocol):
    """Something that processes the event log in order, from its own cursor.

    A consumer with an `after` attribute (another consumer's name) sees only the
    events that one has processed: later stages read only stamped events. One with
    a `reads` attribute (an `EventFilter`; None reads everything) is handed only
    the events it lets through, and its cursor moves past the others; `reads_in(tx)`,
    when a consumer has it, says that per poll instead.
    """

    name: str

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        """Apply the batch's effects in `tx`; the cursor advances in the same transaction."""
        ...


def run_once(db: Database, clock: Clock, consumer: Consumer, limit: int = 1000) -> int:
    """Process the next batch for `consumer`; returns how many events it held."""
    reads: EventFilter | None = None
    known = False  # `reads` found by the read-first poll (one lookup a poll, not two)
    if db.dialect == "sqlite" and _declares_reads(consumer):
        skipped, reads = _read_first(db, clock, consumer)
        if skipped:
            return 0
        known = True
    # Not durable: a batch lost to a power cut is redone from the (durable) log.
    with db.write(durable=False) as tx:
        batch = tx.events.poll(
            consumer.name,
            limit,
            clock.now(),
            after=getattr(consumer, "after", None),
            reads=reads if known else reads_of(consumer, tx),
        )
        if batch.events:
            consumer.handle(tx, batch)
        tx.events.advance(batch)
    return len(batch.events)


def reads_of(consumer: Consumer, tx: Tx) -> EventFilter | None:
    """What `consumer` reads now: `reads_in(tx)` when it has one (a consumer with
    nothing to do in any workspace reads nothing), else its `reads` attribute."""
    dynamic = getattr(consumer, "reads_in", None)
    if dynamic is not None:
        return cast("EventFilter | None", dynamic(tx))
    return cast("EventFilter | None", getattr(consumer, "reads", None))


def _declares_reads(consumer: Consumer) -> bool:
    return hasattr(consumer, "reads_in") or getattr(consumer, "reads", None) is not None


def _read_first(db: Database, clock: Clock, consumer: Consumer) -> tuple[bool, EventFilter | None]:
    """On SQLite, a filtered consumer first polls in a read transaction, which takes no
    lock: when nothing it reads has arrived, only its cursor moves, in a short write.
    Log consumers otherwise hold SQLite's single write lock while they read the log,
    and at 1,000 events/s the lock is what every writer (intake, dispatcher) waits for.

    The cursor moves only if it is still where this poll started (another process
    running the same consumer may have moved it), so no event is skipped twice or
    handed over twice; and only once it is worth a write (`worth_advancing`: some
    hundreds of events skipped, or a watermark step). Returns whether the poll is
    done, and what the consumer reads (for the usual poll, when it is not)."""
    with db.read() as tx:
        reads = reads_of(consumer, tx)
        start = tx.events.position(consumer.name)
        # Reading everything, or a cursor that may not exist yet (creating one writes).
        if reads is None or start == (0, 0):
            return False, reads
        # One event is enough to know the write poll is needed (it reads them again,
        # under the lock); none, and this batch says how far the cursor moves.
        batch = tx.events.poll(
            consumer.name, 1, clock.now(), after=getattr(consumer, "after", None), reads=reads
        )
        if batch.events:
            return False, reads
        if not tx.events.worth_advancing(batch):
            return True, reads  # a few skipped events: polled (and skipped) again later
    with db.write(durable=False) as tx:
        if tx.events.position(consumer.name) == start:
            tx.events.advance(batch)
    return True, reads


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
