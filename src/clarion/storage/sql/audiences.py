"""Audience memberships, re-evaluation timers and backfill status, in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select

from clarion.storage.base import AudienceStatus, Page
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import audience_members, audience_status, audience_timers
from clarion.storage.sql.dialect import insert_ignoring_conflicts, upsert

_CHUNK = 500
_DELETE_TIMER = delete(audience_timers).where(
    audience_timers.c.workspace_id == bindparam("w"),
    audience_timers.c.audience == bindparam("a"),
    audience_timers.c.profile_id == bindparam("p"),
)


class SqlAudiences:
    """`AudienceRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    # --- memberships -----------------------------------------------------------

    def memberships(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[str, set[str]]:
        """The audiences each profile is in."""
        found: dict[str, set[str]] = {}
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), _CHUNK):
            rows = self._conn.execute(
                select(audience_members.c.profile_id, audience_members.c.audience).where(
                    audience_members.c.workspace_id == workspace_id,
                    audience_members.c.profile_id.in_(ids[start : start + _CHUNK]),
                )
            )
            for pid, audience in rows:
                found.setdefault(pid, set()).add(audience)
        return found

    def members(self, workspace_id: str, audience: str, page: Page) -> builtins.list[str]:
        query = (
            select(audience_members.c.profile_id)
            .where(
                audience_members.c.workspace_id == workspace_id,
                audience_members.c.audience == audience,
            )
            .order_by(audience_members.c.profile_id)
            .limit(page.limit)
        )
        if page.after:
            query = query.where(audience_members.c.profile_id > page.after)
        return [r.profile_id for r in self._conn.execute(query)]

    def all_members(self, workspace_id: str, audience: str) -> set[str]:
        rows = self._conn.execute(
            select(audience_members.c.profile_id).where(
                audience_members.c.workspace_id == workspace_id,
                audience_members.c.audience == audience,
            )
        )
        return {r.profile_id for r in rows}

    def count(self, workspace_id: str, audience: str) -> int:
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(audience_members)
                .where(
                    audience_members.c.workspace_id == workspace_id,
                    audience_members.c.audience == audience,
                )
            ).scalar_one()
        )

    def add(
        self, workspace_id: str, audience: str, profile_ids: Sequence[str], since_us: int
    ) -> None:
        rows = [
            {"workspace_id": workspace_id, "audience": audience, "profile_id": p, "since": since_us}
            for p in dict.fromkeys(profile_ids)
        ]
        for start in range(0, len(rows), 5000):
            self._conn.execute(
                insert_ignoring_conflicts(
                    self._dialect, audience_members, "workspace_id", "audience", "profile_id"
                ),
                rows[start : start + 5000],
            )

    def remove(self, workspace_id: str, audience: str, profile_ids: Sequence[str]) -> None:
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), _CHUNK):
            self._conn.execute(
                delete(audience_members).where(
                    audience_members.c.workspace_id == workspace_id,
                    audience_members.c.audience == audience,
                    audience_members.c.profile_id.in_(ids[start : start + _CHUNK]),
                )
            )

    def drop(self, workspace_id: str, audience: str) -> None:
        """Forget an audience's members, timers and status (it was deleted)."""
        for table in (audience_members, audience_timers, audience_status):
            self._conn.execute(
                delete(table).where(
                    table.c.workspace_id == workspace_id, table.c.audience == audience
                )
            )

    # --- re-evaluation timers --------------------------------------------------

    def schedule(self, rows: Sequence[tuple[str, str, str, int]]) -> None:
        """(workspace, audience, profile, due µs); a profile has one timer per audience."""
        if rows:
            self._conn.execute(
                upsert(
                    self._dialect,
                    audience_timers,
                    ["workspace_id", "audience", "profile_id"],
                    ["due_at"],
                ),
                [
                    {"workspace_id": w, "audience": a, "profile_id": p, "due_at": d}
                    for w, a, p, d in rows
                ],
            )

    def cancel(self, rows: Sequence[tuple[str, str, str]]) -> None:
        if rows:
            self._conn.execute(_DELETE_TIMER, [{"w": w, "a": a, "p": p} for w, a, p in rows])

    def timers(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(audience, profile) -> due µs of these profiles' timers."""
        found: dict[tuple[str, str], int] = {}
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), _CHUNK):
            rows = self._conn.execute(
                select(
                    audience_timers.c.audience,
                    audience_timers.c.profile_id,
                    audience_timers.c.due_at,
                ).where(
                    audience_timers.c.workspace_id == workspace_id,
                    audience_timers.c.profile_id.in_(ids[start : start + _CHUNK]),
                )
            )
            found.update(((r.audience, r.profile_id), r.due_at) for r in rows)
        return found

    def take_due(self, limit: int, before_us: int) -> builtins.list[tuple[str, str, str]]:
        """Due timers, removed as they are taken (the caller's transaction re-plans them)."""
        query = (
            select(
                audience_timers.c.workspace_id,
                audience_timers.c.audience,
                audience_timers.c.profile_id,
            )
            .where(audience_timers.c.due_at <= before_us)
            .order_by(audience_timers.c.due_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [(r[0], r[1], r[2]) for r in self._conn.execute(query)]
        self.cancel(rows)
        return rows

    # --- backfill status ---------------------------------------------------------

    def status(self, workspace_id: str, audience: str) -> AudienceStatus | None:
        row = self._conn.execute(
            select(audience_status).where(
                audience_status.c.workspace_id == workspace_id,
                audience_status.c.audience == audience,
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        return AudienceStatus(
            m["audience"], m["status"], m["version"], m["count"], m["error"], m["changed_at"]
        )

    def set_status(
        self,
        workspace_id: str,
        audience: str,
        status: str,
        version: int,
        count: int,
        now: datetime,
        error: str | None = None,
    ) -> None:
        self._conn.execute(
            upsert(
                self._dialect,
                audience_status,
                ["workspace_id", "audience"],
                ["status", "version", "count", "error", "changed_at"],
            ),
            {
                "workspace_id": workspace_id,
                "audience": audience,
                "status": status,
                "version": version,
                "count": count,
                "error": error,
                "changed_at": now,
            },
        )

    def pending(self, limit: int) -> builtins.list[tuple[str, str]]:
        rows = self._conn.execute(
            select(audience_status.c.workspace_id, audience_status.c.audience)
            .where(audience_status.c.status == "pending")
            .limit(limit)
        )
        return [(str(w), str(a)) for w, a in rows]


def _erase(table: Any) -> Any:
    def erase(tx: Any, workspace_id: str, profile_id: str) -> int:
        return int(
            tx.conn.execute(
                delete(table).where(
                    table.c.workspace_id == workspace_id, table.c.profile_id == profile_id
                )
            ).rowcount
        )

    return erase


erasure_hook("audience_members")(_erase(audience_members))
erasure_hook("audience_timers")(_erase(audience_timers))
