"""Running log consumers: each batch and its cursor commit in one transaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from clarion.clock import Clock
from clarion.storage.base import ConsumerBatch, Database, Tx

log = logging.getLogger(__name__)


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


class ConsumerLoop:
    """Runs consumers in a background thread until stopped (the embedded mode).

    `wake()` (called after an append) makes it poll at once; otherwise it polls
    every `idle_seconds`.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        consumers: Sequence[Consumer],
        idle_seconds: float = 0.2,
    ) -> None:
        self._db = db
        self._clock = clock
        self._consumers = list(consumers)
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clarion-consumers", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = drain(self._db, self._clock, self._consumers) > 0
            except Exception:  # a bug in one batch must not kill the loop
                log.exception("consumer loop failed; retrying")
                busy = False
            if not busy:
                self._wake.wait(self._idle)
