"""The capture provider: keeps rendered messages instead of sending them.

The default of the embedded mode, for every channel: what a new user sees
(`GET /v1/outbox`) before configuring any real provider, and what tests assert on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.clock import Clock
from clarion.storage.base import Database, Tx


class CaptureProvider:
    """Stores messages (in batches, one transaction per batch)."""

    name = "capture"
    channel = "*"

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def send(self, message: RenderedMessage) -> SendResult:
        return (await self.send_many([message]))[0]

    async def send_many(self, messages: Sequence[RenderedMessage]) -> list[SendResult]:
        await asyncio.to_thread(self._store, messages)
        return [SendResult(SendStatus.SENT, provider_message_id=m.message_id) for m in messages]

    def _store(self, messages: Sequence[RenderedMessage]) -> None:
        now = self._clock.now()
        with self._db.write() as tx:
            self.write_in(tx, messages, now)

    def write_in(self, tx: Tx, messages: Sequence[RenderedMessage], now: datetime) -> None:
        """Store messages in `tx`: the dispatcher calls this in the transaction that
        records them as sent, so a message is captured exactly when it is recorded (every
        message handed to `write_in` is sent once that transaction commits)."""
        tx.captured.store(messages, now)

    async def close(self) -> None:
        return None
