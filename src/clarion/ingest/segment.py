"""Segment-spec messages to log events: validation with field-level reasons.

This is the hot path of ingestion, so it checks fields by hand rather than
through a model class: a batch of 100 events is validated in well under a
millisecond. Each problem names the field (`event`, `context.consent`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from clarion.ids import new_id
from clarion.ingest.body import MAX_EVENT_BYTES
from clarion.model.events import CALL_TYPES, NewEvent, is_reserved

MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 200
_PAYLOAD_KEYS = (
    "traits",
    "context",
    "integrations",
    "groupId",
    "previousId",
    "name",
    "category",
    "originalTimestamp",
    "sentAt",
    "channel",
)
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one message was refused: the field at fault (dotted) and the reason."""

    field: str
    message: str
    status: int = 400


def parse_time(value: Any, field: str) -> datetime | Problem | None:
    """An ISO 8601 date-time (UTC when no offset is given), None, or a problem."""
    if value is None:
        return None
    if not isinstance(value, str):
        return Problem(field, "must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return Problem(field, f"{value!r} is not an ISO 8601 date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 9000:
        return Problem(field, f"{value!r} is out of range")
    return moment


def _identifier(message: dict[str, Any], key: str) -> str | Problem | None:
    value = message.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return Problem(key, "must be a string")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        return Problem(key, f"is longer than {MAX_ID_LENGTH} characters")
    return text


@dataclass(frozen=True, slots=True)
class Intake:
    """Who sends and how: what a message may contain depends on it."""

    origin: str
    """`write_key` (public: no reserved names, no consent changes) or `secret_key`."""
    sent_at: datetime | None = None
    """The batch's `sentAt`, for messages that carry none of their own."""
    context: dict[str, Any] | None = None
    """The batch's `context`, merged under each message's own."""
    integrations: dict[str, Any] | None = None

    @property
    def public(self) -> bool:
        return self.origin == "write_key"


def parse_message(raw: Any, intake: Intake, call_type: str | None = None) -> NewEvent | Problem:
    """Validate one Segment message and turn it into an event for the log.

    `call_type` is set by the single-call endpoints (`/v1/track`, ...); in a
    batch each message names its own `type`.
    """
    if not isinstance(raw, dict):
        return Problem("", "a message must be a JSON object")
    kind = call_type or raw.get("type")
    if kind not in CALL_TYPES:
        return Problem("type", f"must be one of {', '.join(sorted(CALL_TYPES))}")
    if len(orjson.dumps(raw)) > MAX_EVENT_BYTES:
        return Problem("", f"the event is over {MAX_EVENT_BYTES} bytes", status=413)
    for key in _OBJECT_FIELDS:
        if key in raw and raw[key] is not None and not isinstance(raw[key], dict):
            return Problem(key, "must be a JSON object")

    user_id = _identifier(raw, "userId")
    if isinstance(user_id, Problem):
        return user_id
    anonymous_id = _identifier(raw, "anonymousId")
    if isinstance(anonymous_id, Problem):
        return anonymous_id
    if user_id is None and anonymous_id is None:
        return Problem("userId", "userId or anonymousId is required")

    event_name: str | None = None
    if kind == "track":
        event = raw.get("event")
        if not isinstance(event, str) or not event.strip():
            return Problem("event", "a track call needs an event name")
        event_name = event
    elif kind in ("page", "screen") and isinstance(raw.get("name"), str):
        event_name = raw["name"]
    if event_name is not None and len(event_name) > MAX_NAME_LENGTH:
        return Problem("event", f"is longer than {MAX_NAME_LENGTH} characters")
    if intake.public and is_reserved(event_name):
        return Problem("event", f"{event_name!r} is a reserved name; send it with a secret key")
    if kind == "alias":
        previous = _identifier(raw, "previousId")
        if isinstance(previous, Problem):
            return previous
        if previous is None or user_id is None:
            return Problem("previousId", "an alias call needs previousId and userId")
    if kind == "group":
        group_id = _identifier(raw, "groupId")
        if isinstance(group_id, Problem):
            return group_id
        if group_id is None:
            return Problem("groupId", "a group call needs a groupId")

    context = raw.get("context") or {}
    if intake.context:
        context = {**intake.context, **context}
    if intake.public and "consent" in context:
        return Problem("context.consent", "consent can only be changed with a secret key")

    times: dict[str, datetime | None] = {}
    for key in ("originalTimestamp", "timestamp", "sentAt"):
        parsed = parse_time(raw.get(key), key)
        if isinstance(parsed, Problem):
            return parsed
        times[key] = parsed

    message_id = raw.get("messageId")
    if message_id is None or message_id == "":
        message_id = new_id()
    elif not isinstance(message_id, str) or len(message_id) > MAX_ID_LENGTH:
        return Problem("messageId", f"must be a string of at most {MAX_ID_LENGTH} characters")

    payload = {k: raw[k] for k in _PAYLOAD_KEYS if raw.get(k) is not None}
    if context:
        payload["context"] = context
    if kind == "identify" and "traits" not in payload and isinstance(context.get("traits"), dict):
        payload["traits"] = context["traits"]  # RudderStack's SDKs send identify traits here
    if intake.integrations and "integrations" not in payload:
        payload["integrations"] = intake.integrations
    return NewEvent(
        type=kind,
        message_id=message_id,
        event=event_name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        properties=raw.get("properties") or {},
        payload=payload,
        timestamp=times["originalTimestamp"] or times["timestamp"],
        sent_at=times["sentAt"] or intake.sent_at,
        origin=intake.origin,
    )
