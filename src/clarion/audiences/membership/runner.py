"""The audiences' background loop: backfills and time-based re-evaluation."""

from __future__ import annotations

import logging
import threading

from clarion.audiences.membership.backfill import backfill_pending
from clarion.audiences.membership.timers import reevaluate_due
from clarion.clock import Clock
from clarion.storage.base import Database

log = logging.getLogger(__name__)


class AudienceLoop:
    """Runs backfills and due re-evaluations until stopped."""

    def __init__(self, db: Database, clock: Clock, idle_seconds: float = 0.5) -> None:
        self._db, self._clock, self._idle = db, clock, idle_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clarion-audiences", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = backfill_pending(self._db, self._clock)
                busy += reevaluate_due(self._db, self._clock)
            except Exception:  # keep going; the work is still in the tables
                log.exception("audience loop failed")
                busy = 0
            if not busy:
                self._stop.wait(self._idle)
