"""The thread plumbing every embedded background loop shares."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BackgroundLoop:
    """A daemon thread that repeats `tick()` until stopped.

    `wake()` (after new work is committed) makes it look at once; when a tick
    finds nothing to do it waits `idle_seconds` before the next. A failing tick
    is logged and retried: leases hand interrupted work back later.
    """

    thread_name = "clarion-background"
    join_seconds = 60.0

    def __init__(self, idle_seconds: float) -> None:
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_seconds)

    def tick(self) -> bool:
        """One pass over the work; True when it did something (look again at once)."""
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self.tick()
            except Exception:  # a bug in one pass must not kill the loop
                log.exception("%s failed; retrying", self.thread_name)
                busy = False
            if not busy:
                self._wake.wait(self._idle)
