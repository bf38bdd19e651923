"""The background loop of journeys: due timers and custom-action calls (embedded mode)."""

from __future__ import annotations

import asyncio
import logging
import threading

from clarion.clock import Clock
from clarion.journeys.timers import fire_due_timers, run_http_calls
from clarion.outbound import OutboundClient
from clarion.storage.base import Database

log = logging.getLogger(__name__)


class JourneyTimerLoop:
    """Fires due timers and makes queued HTTP calls until stopped."""

    def __init__(
        self, db: Database, clock: Clock, client: OutboundClient, idle_seconds: float = 0.25
    ) -> None:
        self._db, self._clock, self._client = db, clock, client
        self._idle = idle_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._loop()), name="clarion-journey-timers", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = await asyncio.to_thread(fire_due_timers, self._db, self._clock)
                busy += await run_http_calls(self._db, self._clock, self._client)
            except Exception:  # keep going; a failed round is retried after the leases
                log.exception("journey timers failed")
                busy = 0
            if not busy:
                await asyncio.to_thread(self._stop.wait, self._idle)
        await self._client.aclose()
