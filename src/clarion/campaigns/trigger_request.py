"""The body of `POST /v1/campaigns/{id}/trigger`, checked field by field.

```json
{"requestId": "order-1042",
 "recipients": [{"email": "ann@example.com", "context": {"order": {"id": "1042"}},
                 "profile": {"first_name": "Ann"}}],
 "context": {"shop": "Acme"}}
```

A recipient names exactly one of `userId`, `email`, `phone` or `identity`
(`"namespace:value"` or `{"namespace", "value"}`); `context` (merged over the
shared one) and `profile` (inline traits) are optional objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from clarion.campaigns.errors import InvalidTrigger, TriggerTooLarge
from clarion.model.profiles import Identity
from clarion.profiles.rules import normalise

MAX_RECIPIENTS = 1000
MAX_CONTEXT_BYTES = 200 * 1024
"""A context (shared, or one recipient's) is at most 200 KB of JSON."""
MAX_REQUEST_ID = 200
_KEYS = {"userId": "user_id", "email": "email", "phone": "phone"}


@dataclass(frozen=True, slots=True)
class TriggerRecipient:
    """One recipient of a call: who (an identity), their context and inline traits."""

    identity: Identity
    context: dict[str, Any]
    profile: dict[str, Any] | None

    @property
    def address(self) -> str | None:
        """An address given inline (email or phone), enough to send to a stranger."""
        namespace, value = self.identity
        return value if namespace in ("email", "phone") else None


@dataclass(frozen=True, slots=True)
class TriggerRequest:
    """A checked trigger call."""

    request_id: str
    recipients: list[TriggerRecipient]
    context: dict[str, Any]


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidTrigger(f"{field} must be an object", field=field)
    if len(orjson.dumps(value)) > MAX_CONTEXT_BYTES:
        raise TriggerTooLarge(f"{field} is larger than {MAX_CONTEXT_BYTES} bytes", field=field)
    return value


def _identity(item: dict[str, Any], field: str) -> Identity:
    given = [k for k in ("userId", "email", "phone", "identity") if item.get(k) is not None]
    if len(given) != 1:
        raise InvalidTrigger(
            f"{field} names exactly one of userId, email, phone or identity", field=field
        )
    key = given[0]
    value = item[key]
    if key == "identity":
        if isinstance(value, dict):
            namespace, raw = value.get("namespace"), value.get("value")
        elif isinstance(value, str) and ":" in value:
            namespace, raw = value.split(":", 1)
        else:
            namespace = raw = None
        if not isinstance(namespace, str) or not namespace or not isinstance(raw, str | int):
            raise InvalidTrigger(
                f"{field}.identity is 'namespace:value' or {{namespace, value}}",
                field=f"{field}.identity",
            )
    else:
        namespace, raw = _KEYS[key], value
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise InvalidTrigger(f"{field}.{key} must be a string", field=f"{field}.{key}")
    normalised = normalise(namespace, str(raw))
    if not normalised or (namespace == "email" and "@" not in normalised):
        raise InvalidTrigger(f"{field}.{key} is not a valid {namespace}", field=f"{field}.{key}")
    return (namespace, normalised)


def parse_trigger(body: Any) -> TriggerRequest:
    """Check a trigger body; raises `InvalidTrigger` / `TriggerTooLarge` naming the field."""
    if not isinstance(body, dict):
        raise InvalidTrigger("send a JSON object", field="body")
    request_id = body.get("requestId")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID:
        raise InvalidTrigger(
            f"requestId is a string of 1 to {MAX_REQUEST_ID} characters", field="requestId"
        )
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        raise InvalidTrigger("recipients is a list of at least one recipient", field="recipients")
    if len(recipients) > MAX_RECIPIENTS:
        raise TriggerTooLarge(
            f"at most {MAX_RECIPIENTS} recipients per call; got {len(recipients)}",
            field="recipients",
        )
    context = _object(body.get("context"), "context")
    parsed = []
    for index, item in enumerate(recipients):
        field = f"recipients[{index}]"
        if not isinstance(item, dict):
            raise InvalidTrigger(f"{field} must be an object", field=field)
        identity = _identity(item, field)
        own = _object(item.get("context"), f"{field}.context")
        profile = item.get("profile")
        if profile is not None and not isinstance(profile, dict):
            raise InvalidTrigger(f"{field}.profile must be an object", field=f"{field}.profile")
        parsed.append(TriggerRecipient(identity, own, profile))
    return TriggerRequest(request_id, parsed, context)
