"""Running canvas runs in the background (embedded mode and `clarion worker`)."""

from __future__ import annotations

from clarion.orchestrated.service import CanvasService
from clarion.processing.background import BackgroundLoop


class CanvasLoop(BackgroundLoop):
    """A thread that advances due canvas runs and drops expired work tables.

    `wake()` (after a run is started) makes it look at once; otherwise it looks
    every `idle_seconds` (an interrupted run is taken up again after its lease).
    """

    thread_name = "clarion-canvases"

    def __init__(self, service: CanvasService, idle_seconds: float = 1.0) -> None:
        super().__init__(idle_seconds)
        self.service = service

    def stop(self) -> None:
        super().stop()
        self.service.sources.close()

    def tick(self) -> bool:
        """Advance due runs, then drop expired work tables; True if a run moved."""
        busy = bool(self.service.step())
        self.service.cleanup()
        return busy
