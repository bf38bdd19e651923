"""Queueing message intents: in the caller's transaction, with whatever caused them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from clarion.model.messages import MessageIntent
from clarion.storage.base import Tx


def enqueue(
    tx: Tx,
    intents: Sequence[MessageIntent],
    now: datetime,
    *,
    due_at: datetime | None = None,
    throttle_key: str | None = None,
    throttle_rate: float | None = None,
) -> list[str]:
    """Queue intents in `tx`; returns the message ids that were new (retries are no-ops)."""
    return tx.outbox.enqueue(
        intents, now, due_at=due_at, throttle_key=throttle_key, throttle_rate=throttle_rate
    )
