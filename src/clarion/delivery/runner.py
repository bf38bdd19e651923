"""Running the dispatcher in the background (the embedded mode)."""

from __future__ import annotations

import asyncio
import logging
import threading

from clarion.delivery.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class DispatcherLoop:
    """A thread with its own event loop, dispatching until stopped.

    `wake()` (after messages are queued) makes it look at once; otherwise it
    looks every `idle_seconds` (deferred messages fall due on their own).
    """

    def __init__(self, dispatcher: Dispatcher, idle_seconds: float = 0.25) -> None:
        self.dispatcher = dispatcher
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clarion-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

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
