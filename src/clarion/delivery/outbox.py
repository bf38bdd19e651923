"""Queueing message intents: in the caller's transaction, with whatever caused them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from clarion.clock import to_micros
from clarion.model.messages import MessageIntent, QueuedMessage
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


class HandOff(Protocol):
    """A dispatcher of this process that takes messages straight from the transaction
    that queued them (`DispatcherLoop`): no claim, and no wait for its next look."""

    def lease_seconds(self) -> float | None:
        """The lease to queue messages with for it; None when it takes none now (it is
        not running, or has enough in hand)."""
        ...

    def hand(self, messages: Sequence[QueuedMessage]) -> None:
        """Dispatch these committed messages, queued leased to it."""
        ...


def enqueue_now(
    tx: Tx,
    intents: Sequence[MessageIntent],
    now: datetime,
    handoff: HandOff | None,
    wake: Callable[[], None],
) -> list[str]:
    """Queue intents to send at once; returns the message ids that were new.

    If `handoff` takes them, they are queued already claimed by it (leased) and handed
    to it when `tx` commits, so that the provider call follows the commit. A crash in
    between loses nothing: the lease runs out and any dispatcher claims them. Otherwise
    they are queued pending and `wake` is called when `tx` commits.
    """
    lease = handoff.lease_seconds() if handoff is not None else None
    if handoff is None or lease is None:
        ids = enqueue(tx, intents, now)
        if ids:
            tx.on_commit(wake)
        return ids
    for workspace_id in {intent.workspace_id for intent in intents}:
        tx.signing_key(workspace_id)  # created here if new: the dispatcher only reads it
    ids = tx.outbox.enqueue(intents, now, lease_seconds=lease)
    fresh, due = set(ids), to_micros(now)
    messages = [
        QueuedMessage(intent, "sending", 1, due, stored_id=intent.message_id)
        for intent in intents
        if intent.message_id in fresh
    ]
    if messages:
        tx.on_commit(lambda: handoff.hand(messages))
    return ids
