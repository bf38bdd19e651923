"""Event records of the log, the Segment spec's call types, and the time rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CALL_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
"""The Segment spec's call types that ingestion accepts."""

RESERVED_PREFIXES = ("audience.", "message.", "journey.", "profile.")
"""Event names written only by Clarion itself or with a secret key."""


def is_reserved(event_name: str | None) -> bool:
    """True for event names in Clarion's own namespaces (`message.sent`, ...)."""
    return event_name is not None and event_name.startswith(RESERVED_PREFIXES)


def corrected_timestamp(
    received_at: datetime,
    timestamp: datetime | None,
    sent_at: datetime | None,
) -> datetime:
    """The event time after correcting device clock skew, as Segment does.

    `timestamp` is the device's own time of the event (Segment keeps it as
    `originalTimestamp`). When the device also says when it sent the batch
    (`sentAt`), the skew between its clock and ours is removed:
    `receivedAt - (sentAt - originalTimestamp)`. The result is never later than
    `receivedAt`.
    """
    if timestamp is None:
        return received_at
    if sent_at is not None:
        moment = received_at - (sent_at - timestamp)
    else:
        moment = timestamp
    return min(moment, received_at)


@dataclass(slots=True)  # not frozen: see `LoggedEvent`
class NewEvent:
    """An event about to be appended to the log (`received_at` is stamped on append)."""

    type: str
    message_id: str
    event: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    profile_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None
    sent_at: datetime | None = None
    origin: str = "internal"


# Not frozen, but read-only by convention: built for every event a consumer reads,
# and a frozen dataclass's __init__ costs ~6 times a plain one's (~1 µs here).
@dataclass(slots=True)
class LoggedEvent:
    """An event as stored in the log, with its position and corrected times.

    Times are microseconds since the Unix epoch (UTC): one representation that
    every SQL engine compares the same way.
    """

    seq: int
    txid: int
    workspace_id: str
    type: str
    message_id: str
    event: str | None
    user_id: str | None
    anonymous_id: str | None
    profile_id: str | None
    properties: dict[str, Any]
    payload: dict[str, Any]
    timestamp_us: int
    received_at_us: int
    origin: str

    @property
    def position(self) -> tuple[int, int]:
        """Where this event stands in the log's consumption order."""
        return (self.txid, self.seq)
