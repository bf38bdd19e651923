"""The provider protocol: one small interface for every channel's senders.

A provider receives a fully rendered message and answers with a `SendResult`.
It never raises for a vendor's refusal or an outage: those are results
(transient failures are retried by the dispatcher, permanent ones recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from clarion.model.messages import RenderedEmail, RenderedMessage

__all__ = ["Provider", "RenderedEmail", "RenderedMessage", "SendResult", "SendStatus"]


class SendStatus(StrEnum):
    """What happened when the provider was called."""

    SENT = "sent"
    TRANSIENT = "transient"
    """Worth retrying: a timeout, a 5xx, a 429, a dropped connection."""
    PERMANENT = "permanent"
    """Never worth retrying: an invalid address or token, a 4xx refusal."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """The provider's answer."""

    status: SendStatus
    provider_message_id: str | None = None
    error: str | None = None
    retry_after_seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """Sends rendered messages of one channel."""

    name: str
    channel: str

    async def send(self, message: RenderedMessage) -> SendResult: ...

    async def close(self) -> None: ...
