"""Waking the background loops when another process commits work for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from clarion.processing.background import BackgroundLoop


class Probe(Protocol):
    """A token source: the token changes when another process has committed."""

    def __call__(self) -> object: ...

    def close(self) -> None: ...


class ChangeWatch(BackgroundLoop):
    """Checks a change probe every `interval` seconds and wakes `targets` on a change.

    The scaled-out mode's latency comes from here: an event accepted by an API
    process reaches the worker's consumers within one interval, not one idle poll.
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
        self._last: object = None
        self.wakes = 0

    def tick(self) -> bool:
        """Wake every target if the token moved; never busy (wait one interval)."""
        token = self._probe()
        if token != self._last:
            self._last = token
            self.wakes += 1
            for wake in self._targets:
                wake()
        return False

    def stop(self) -> None:
        super().stop()
        self._probe.close()
