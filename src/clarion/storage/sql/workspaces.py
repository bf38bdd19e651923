"""Workspaces and API keys in SQL."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from clarion.ids import new_id
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import ApiKey, Workspace
from clarion.storage.base import Page
from clarion.storage.schema import api_keys, workspaces

_SETTINGS = select(workspaces.c.settings).where(workspaces.c.id == bindparam("id"))
"""Built once (read for every dispatched batch and trigger call)."""


class SqlWorkspaces:
    """`WorkspaceRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def create(self, name: str, now: datetime) -> Workspace:
        ws = Workspace(id=new_id(), name=name, created_at=now)
        self._conn.execute(
            workspaces.insert().values(id=ws.id, name=name, settings={}, created_at=now)
        )
        return ws

    def get(self, workspace_id: str) -> Workspace | None:
        row = self._conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).first()
        return Workspace(row.id, row.name, row.created_at) if row else None

    def list(self, page: Page) -> builtins.list[Workspace]:
        query = select(workspaces).order_by(workspaces.c.id).limit(page.limit)
        if page.after:
            query = query.where(workspaces.c.id > page.after)
        return [Workspace(r.id, r.name, r.created_at) for r in self._conn.execute(query)]

    def settings(self, workspace_id: str) -> dict[str, Any]:
        value = self._conn.execute(_SETTINGS, {"id": workspace_id}).scalar()
        return dict(value or {})

    def set_settings(self, workspace_id: str, settings: dict[str, Any]) -> None:
        self._conn.execute(
            update(workspaces).where(workspaces.c.id == workspace_id).values(settings=settings)
        )


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        workspace_id=row.workspace_id,
        kind=KeyKind(row.kind),
        role=Role(row.role) if row.role else None,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlKeys:
    """`KeyRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(
        self,
        workspace_id: str,
        *,
        kind: KeyKind,
        role: Role | None,
        name: str,
        prefix: str,
        token_sha256: str,
        now: datetime,
    ) -> ApiKey:
        key_id = new_id()
        self._conn.execute(
            api_keys.insert().values(
                id=key_id,
                workspace_id=workspace_id,
                kind=kind.value,
                role=role.value if role else None,
                name=name,
                prefix=prefix,
                token_sha256=token_sha256,
                created_at=now,
            )
        )
        return ApiKey(key_id, workspace_id, kind, role, name, prefix, now, None, None)

    def find_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
        return (_key(row), row.token_sha256) if row else None

    def get(self, workspace_id: str, key_id: str) -> ApiKey | None:
        row = self._conn.execute(
            select(api_keys).where(api_keys.c.workspace_id == workspace_id, api_keys.c.id == key_id)
        ).first()
        return _key(row) if row else None

    def list(self, workspace_id: str, page: Page) -> builtins.list[ApiKey]:
        query = (
            select(api_keys)
            .where(api_keys.c.workspace_id == workspace_id)
            .order_by(api_keys.c.id)
            .limit(page.limit)
        )
        if page.after:
            query = query.where(api_keys.c.id > page.after)
        return [_key(r) for r in self._conn.execute(query)]

    def revoke(self, workspace_id: str, key_id: str, now: datetime) -> bool:
        result = self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.workspace_id == workspace_id,
                api_keys.c.id == key_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return result.rowcount > 0
