"""Profiles and identities as records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Identity = tuple[str, str]
"""(namespace, value): `("user_id", "42")`, `("email", "a@b.c")`, ..."""

NAMESPACE_PRIORITY = ("user_id", "email", "phone", "anonymous_id")
"""Which identity names a person best; custom namespaces rank after these."""


def priority(namespace: str) -> int:
    """Lower is stronger."""
    try:
        return NAMESPACE_PRIORITY.index(namespace)
    except ValueError:
        return len(NAMESPACE_PRIORITY)


@dataclass(slots=True)
class ProfileRecord:
    """A profile as the identity stage and the API see it."""

    id: str
    workspace_id: str
    traits: dict[str, Any]
    trait_times: dict[str, int]
    created_at: datetime
    updated_at: datetime
    timezone: str | None = None
    locale: str | None = None
    is_test: bool = False
    identities: set[Identity] = field(default_factory=set)

    def values(self, namespace: str) -> list[str]:
        """The profile's identity values in one namespace."""
        return sorted(v for ns, v in self.identities if ns == namespace)
