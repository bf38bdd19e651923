"""Identity rules: which identities an event carries, and when profiles may merge.

Defaults are safe: a profile holds at most one `user_id`; an anonymous id links
to a user id (merging the anonymous profile into the user's); `email` and
`phone` find profiles but merge them only if the workspace opts in; a profile
holds at most 50 anonymous ids, which stops runaway merges. A workspace
overrides them in its settings under `identity`:
`{"merge_on": ["email"], "limits": {"anonymous_id": 100}}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clarion.model.events import LoggedEvent
from clarion.model.profiles import Identity

BLOCKED_VALUES = frozenset(
    {
        "",
        "0",
        "-1",
        "null",
        "none",
        "nil",
        "undefined",
        "anonymous",
        "unknown",
        "n/a",
        "00000000-0000-0000-0000-000000000000",
        "null@example.com",
    }
)
"""Placeholder values that buggy clients send; they never link anyone."""

_DEFAULT_LIMITS = {"user_id": 1, "anonymous_id": 50, "email": 10, "phone": 10}


def normalise(namespace: str, value: str) -> str:
    """The canonical form of an identity value (emails lowercase, phones digits)."""
    value = value.strip()
    if namespace == "email":
        return value.lower()
    if namespace == "phone":
        digits = "".join(c for c in value if c.isdigit())
        return f"+{digits}" if value.startswith("+") or digits else value
    return value


@dataclass(frozen=True)
class IdentityRules:
    """A workspace's merge rules."""

    merge_on: frozenset[str] = frozenset({"user_id", "anonymous_id"})
    limits: Mapping[str, int] = field(default_factory=lambda: dict(_DEFAULT_LIMITS))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> IdentityRules:
        """Rules from a workspace's `identity` settings (missing keys keep defaults)."""
        config = (settings or {}).get("identity") or {}
        merge_on = {"user_id", "anonymous_id"} | set(config.get("merge_on") or [])
        limits = {**_DEFAULT_LIMITS, **(config.get("limits") or {})}
        limits["user_id"] = 1  # never more than one user id: not configurable
        return cls(frozenset(merge_on), limits)

    def limit(self, namespace: str) -> int:
        return int(self.limits.get(namespace, 50))


def _add(found: list[Identity], namespace: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return
    text = normalise(namespace, str(value))
    if text.lower() in BLOCKED_VALUES or len(text) > 300:
        return
    if (namespace, text) not in found:
        found.append((namespace, text))


def event_identities(event: LoggedEvent) -> list[Identity]:
    """The identities an event names, strongest first.

    `userId` and `anonymousId` always; `traits.email` / `traits.phone` of an
    identify call; each `context.externalIds` entry (its `type` is the
    namespace). An alias's `previousId` is resolved separately.
    """
    found: list[Identity] = []
    _add(found, "user_id", event.user_id)
    payload = event.payload
    if event.type == "identify":
        traits = payload.get("traits") or {}
        _add(found, "email", traits.get("email"))
        _add(found, "phone", traits.get("phone"))
    context = payload.get("context") or {}
    external = context.get("externalIds")
    if isinstance(external, list):
        for item in external:
            if isinstance(item, dict) and isinstance(item.get("type"), str):
                namespace = item["type"].strip().lower()
                if namespace and namespace not in ("user_id", "anonymous_id"):
                    _add(found, namespace, item.get("id"))
    _add(found, "anonymous_id", event.anonymous_id)
    return found
