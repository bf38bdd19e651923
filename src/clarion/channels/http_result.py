"""Vendor answers as `SendResult`s: what the dispatcher retries, and what it does not.

2xx is sent; 408, 425, 429 and 5xx are transient (with the vendor's Retry-After,
in seconds or as an HTTP date); other 4xx are permanent; a call that got no
answer is transient unless it can never succeed (a refused address, an
oversized answer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from clarion.channels.base import SendResult, SendStatus
from clarion.outbound import OutboundError, OutboundResponse

TRANSIENT_STATUSES = frozenset({408, 425, 429})


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def from_response(
    response: OutboundResponse,
    *,
    message_id: str | None = None,
    error: str | None = None,
    now: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> SendResult:
    """The result a vendor's HTTP answer means."""
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(SendStatus.SENT, provider_message_id=message_id, details=details or {})
    reason = error or f"http {status}: {response.text[:300]}"
    if status in TRANSIENT_STATUSES or status >= 500:
        wait = retry_after(response.headers.get("retry-after"), now)
        return SendResult(
            SendStatus.TRANSIENT, error=reason, retry_after_seconds=wait, details=details or {}
        )
    return SendResult(SendStatus.PERMANENT, error=reason, details=details or {})


def from_error(exc: OutboundError) -> SendResult:
    status = SendStatus.TRANSIENT if exc.transient else SendStatus.PERMANENT
    return SendResult(status, error=f"{type(exc).__name__}: {exc}")


async def guarded(call: Callable[[], Awaitable[SendResult]]) -> SendResult:
    """Run a send, turning an outbound failure into its result."""
    try:
        return await call()
    except OutboundError as exc:
        return from_error(exc)
