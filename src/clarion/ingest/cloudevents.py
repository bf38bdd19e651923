"""CloudEvents 1.0 (structured, batched and binary HTTP modes) as Segment track calls.

Mapping: `type` -> event, `subject` (or `data.userId`) -> userId,
`data.anonymousId` -> anonymousId, `source` + `id` -> messageId (a retried
CloudEvent is stored once), `time` -> timestamp, `data` -> properties; the
CloudEvent's own attributes are kept in `context.cloudevents`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from clarion.ingest.segment import Problem

_EXTENSION = re.compile(r"^[a-z0-9]{1,20}$")
_REQUIRED = ("id", "source", "type")


def _message_id(source: str, event_id: str) -> str:
    digest = hashlib.sha256(f"{source}\0{event_id}".encode()).hexdigest()[:32]
    return f"ce-{digest}"


def to_segment(event: Any) -> dict[str, Any] | Problem:
    """The Segment track call for one structured CloudEvent, or the problem with it."""
    if not isinstance(event, dict):
        return Problem("", "a CloudEvent must be a JSON object")
    if event.get("specversion") != "1.0":
        return Problem("specversion", 'must be "1.0"')
    for attribute in _REQUIRED:
        value = event.get(attribute)
        if not isinstance(value, str) or not value:
            return Problem(attribute, "is a required non-empty string attribute")
    data = event.get("data")
    properties = data if isinstance(data, dict) else ({} if data is None else {"data": data})
    user_id = event.get("subject") or properties.get("userId")
    attributes = {k: v for k, v in event.items() if k not in ("data", "data_base64")}
    bad = [k for k in attributes if not _EXTENSION.match(k)]
    if bad:
        return Problem(bad[0], "attribute names are lowercase letters and digits")
    message: dict[str, Any] = {
        "type": "track",
        "event": event["type"],
        "messageId": _message_id(event["source"], event["id"]),
        "properties": properties,
        "context": {"cloudevents": attributes},
    }
    if user_id is not None:
        message["userId"] = user_id
    if properties.get("anonymousId") is not None:
        message["anonymousId"] = properties["anonymousId"]
    if event.get("time") is not None:
        message["timestamp"] = event["time"]
    return message


def from_binary(headers: Mapping[str, str], data: Any) -> dict[str, Any]:
    """A structured CloudEvent from binary mode: `ce-*` headers and the body as data."""
    event: dict[str, Any] = {
        key[3:].lower(): value for key, value in headers.items() if key.lower().startswith("ce-")
    }
    event["data"] = data
    return event
