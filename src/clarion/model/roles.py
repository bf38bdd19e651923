"""Key kinds and roles, and what each role may do."""

from __future__ import annotations

from enum import StrEnum


class KeyKind(StrEnum):
    """A write key is public (ingestion only); a secret key reaches the management API."""

    WRITE = "write"
    SECRET = "secret"


class Role(StrEnum):
    """The role of a secret key. Each role includes the rights of the ones below it."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """True when this role has at least the rights of `needed`."""
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}
