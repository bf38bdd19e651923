"""Workspaces and API keys as records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clarion.model.roles import KeyKind, Role


@dataclass(frozen=True, slots=True)
class Workspace:
    """A tenant: every row of every table belongs to exactly one."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: never the token itself, only its lookup prefix and SHA-256."""

    id: str
    workspace_id: str
    kind: KeyKind
    role: Role | None
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the workspace and the rights of the key used."""

    workspace_id: str
    key_id: str
    kind: KeyKind
    role: Role | None

    def allows(self, needed: Role) -> bool:
        """True when this is a secret key whose role covers `needed`."""
        return self.kind is KeyKind.SECRET and self.role is not None and self.role.allows(needed)
