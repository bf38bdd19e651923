"""Running the dispatcher in the background (the embedded mode)."""

from __future__ import annotations

import asyncio
import logging

from clarion.delivery.dispatcher import Dispatcher
from clarion.processing.background import BackgroundLoop

log = logging.getLogger(__name__)


class DispatcherLoop(BackgroundLoop):
    """A thread with its own event loop, dispatching until stopped.

    `wake()` (after messages are queued) makes it look at once; otherwise it
    looks every `idle_seconds` (deferred messages fall due on their own).
    """

    thread_name = "clarion-dispatcher"

    def __init__(self, dispatcher: Dispatcher, idle_seconds: float = 0.25) -> None:
        super().__init__(idle_seconds)
        self.dispatcher = dispatcher

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    stats = await self.dispatcher.run_once()
                except Exception:  # keep dispatching; the batch is reclaimed after its lease
                    log.exception("dispatch failed")
                    stats = None
                if stats is None or stats.claimed == 0:
                    await asyncio.to_thread(self._wake.wait, self._idle)
        finally:
            await self.dispatcher.providers.close()
