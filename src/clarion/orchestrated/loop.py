"""Running canvas runs in the background (embedded mode and `clarion worker`)."""

from __future__ import annotations

import logging
import threading

from clarion.orchestrated.service import CanvasService

log = logging.getLogger(__name__)


class CanvasLoop:
    """A thread that advances due canvas runs and drops expired work tables.

    `wake()` (after a run is started) makes it look at once; otherwise it looks
    every `idle_seconds` (an interrupted run is taken up again after its lease).
    """

    def __init__(self, service: CanvasService, idle_seconds: float = 1.0) -> None:
        self.service = service
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clarion-canvases", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.service.sources.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            busy = False
            try:
                busy = bool(self.service.step())
                self.service.cleanup()
            except Exception:  # keep going; a leased run is taken up again later
                log.exception("canvas loop failed; retrying")
            if not busy:
                self._wake.wait(self._idle)
