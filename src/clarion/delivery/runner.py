"""Running the dispatcher in the background (the embedded mode)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence

from clarion.delivery.dispatcher import Dispatcher
from clarion.model.messages import QueuedMessage
from clarion.processing.background import BackgroundLoop

log = logging.getLogger(__name__)

HANDOFF_LIMIT = 2000
"""Messages a loop holds (handed and not yet recorded) before it takes no more: the
rest are queued pending and claimed, so that nothing handed outlives its lease."""


DRAINS = 2
"""Handed batches in flight at once: one is judged and rendered while another waits
for the write lock to be recorded."""


class DispatcherLoop(BackgroundLoop):
    """A thread with its own event loop, dispatching until stopped.

    `wake()` (after messages are queued) makes it look at once; otherwise it
    looks every `idle_seconds` (deferred messages fall due on their own). It is
    also a `HandOff`: messages handed to it (queued leased to it) are sent at
    once, beside the batches it claims. With `polls=False` it only takes what is
    handed (an API process next to workers that claim the rest).
    """

    thread_name = "clarion-dispatcher"

    def __init__(
        self, dispatcher: Dispatcher, idle_seconds: float = 0.25, *, polls: bool = True
    ) -> None:
        super().__init__(idle_seconds)
        self.dispatcher = dispatcher
        self.polls = polls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handed: list[QueuedMessage] = []
        self._held = 0  # handed and not yet recorded
        self._draining = 0  # drain tasks running
        self._mutex = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def lease_seconds(self) -> float | None:
        with self._mutex:
            taking = self._loop is not None and self._held < HANDOFF_LIMIT
        return self.dispatcher.lease_seconds if taking else None

    def hand(self, messages: Sequence[QueuedMessage]) -> None:
        with self._mutex:
            loop = self._loop
            if loop is None:  # stopped: their leases run out and they are claimed
                return
            self._handed.extend(messages)
            self._held += len(messages)
            start = self._draining < DRAINS
            self._draining += start
        if start:
            with contextlib.suppress(RuntimeError):  # closed meanwhile: claimed after the lease
                loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        task = asyncio.get_running_loop().create_task(self._drain())
        self._tasks.add(task)  # a task nobody references may be collected mid-run
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        """Dispatch what is handed, everything handed meanwhile in one batch."""
        while True:
            with self._mutex:
                batch, self._handed = self._handed, []
                if not batch:
                    self._draining -= 1
                    return
            try:
                await self.dispatcher.dispatch_leased(batch)
            except Exception:  # their leases run out and they are claimed again
                log.exception("dispatching handed messages failed")
            finally:
                with self._mutex:
                    self._held -= len(batch)

    def _run(self) -> None:
        asyncio.run(self._loop_main())

    async def _loop_main(self) -> None:
        with self._mutex:
            self._loop = asyncio.get_running_loop()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                stats = None
                if self.polls:
                    try:
                        stats = await self.dispatcher.run_once()
                    except Exception:  # keep dispatching; the batch is reclaimed after its lease
                        log.exception("dispatch failed")
                if stats is None or stats.claimed == 0:
                    await asyncio.to_thread(self._wake.wait, self._idle)
        finally:
            with self._mutex:
                self._loop = None
            await self._finish_handed()
            await self.dispatcher.providers.close()

    async def _finish_handed(self) -> None:
        """Let the batch being dispatched finish (what is not yet begun is claimed later)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.join_seconds)
