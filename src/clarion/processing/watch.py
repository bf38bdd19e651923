"""Waking the background loops when another process commits work for them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from clarion.processing.background import BackgroundLoop


class Probe(Protocol):
    """A token source: the token changes when another connection has committed."""

    def __call__(self) -> object: ...

    def close(self) -> None: ...


class ChangeWatch(BackgroundLoop):
    """Checks a change probe every `interval` seconds and wakes `targets` on a change.

    The scaled-out mode's latency comes from here: an event accepted by an API
    process reaches the worker's consumers within one interval, not one idle poll.

    A probe also sees this process's own commits. Where every process's writers
    take turns at one lock (`SqlDatabase.share_writes`), the database tells the
    watch when this process takes and leaves its turn (`entered`, `left`):
    a change found on entering is someone else's, and the token on leaving is
    this process's own, so the loops are not woken by their own writes.
    """

    thread_name = "clarion-change-watch"
    join_seconds = 5.0

    def __init__(
        self,
        probe: Probe,
        targets: Sequence[Callable[[], None]],
        interval: float = 0.002,
    ) -> None:
        super().__init__(interval)
        self._probe = probe
        self._targets = list(targets)
        self._mutex = threading.Lock()  # the probe's connection is used from several threads
        self._last: object = None
        self.wakes = 0

    def tick(self) -> bool:
        """Wake every target if the token moved; never busy (wait one interval)."""
        self._look()
        return False

    def entered(self) -> None:
        """This process holds the write turn: a change seen now was another process's."""
        self._look()

    def left(self) -> None:
        """This process's write is over: its own change is not news."""
        with self._mutex:
            self._last = self._probe()

    def _look(self) -> None:
        with self._mutex:
            token = self._probe()
            changed = token != self._last
            self._last = token
        if changed:
            self.wakes += 1
            for wake in self._targets:
                wake()

    def stop(self) -> None:
        super().stop()
        with self._mutex:
            self._probe.close()
