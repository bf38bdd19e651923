"""`CanvasRepo` in SQL: canvas runs, and rows of Clarion's tables for a data source's copy."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from clarion.storage.canvases import CanvasRun
from clarion.storage.schema import canvas_runs, metadata
from clarion.storage.sql.dialect import upsert

UNFINISHED = ("pending", "computing", "sending")
COPYABLE = frozenset(
    {
        "profiles",
        "identities",
        "subscriptions",
        "subscription_groups",
        "address_subscriptions",
        "suppressions",
        "events",
        "audience_members",
    }
)


def _run(row: Any) -> CanvasRun:
    return CanvasRun(
        id=row.id,
        workspace_id=row.workspace_id,
        canvas_id=row.canvas_id,
        canvas_name=row.canvas_name,
        version=row.version,
        mode=row.mode,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        state=row.state,
        next_at_us=row.next_at,
        error=row.error,
        finished_at=row.finished_at,
        cleaned_at=row.cleaned_at,
    )


class SqlCanvases:
    """Canvas runs on SQLite or PostgreSQL."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def save_run(self, run: CanvasRun, *, lease_us: int | None = None) -> None:
        values = {
            "id": run.id,
            "workspace_id": run.workspace_id,
            "canvas_id": run.canvas_id,
            "canvas_name": run.canvas_name,
            "version": run.version,
            "mode": run.mode,
            "status": run.status,
            "state": run.state,
            "next_at": run.next_at_us,
            "lease_until": lease_us,
            "error": run.error,
            "created_at": run.created_at,
            "updated_at": run.updated_at,
            "finished_at": run.finished_at,
            "cleaned_at": run.cleaned_at,
        }
        stmt = upsert(self._dialect, canvas_runs, ["id"], [k for k in values if k != "id"])
        self._conn.execute(stmt, values)

    def run(self, workspace_id: str, run_id: str, *, lock: bool = False) -> CanvasRun | None:
        query = select(canvas_runs).where(
            canvas_runs.c.workspace_id == workspace_id, canvas_runs.c.id == run_id
        )
        if lock and self._dialect == "postgresql":
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return _run(row) if row else None

    def runs(self, workspace_id: str, canvas_id: str, limit: int = 50) -> builtins.list[CanvasRun]:
        query = (
            select(canvas_runs)
            .where(canvas_runs.c.workspace_id == workspace_id, canvas_runs.c.canvas_id == canvas_id)
            .order_by(canvas_runs.c.id.desc())
            .limit(limit)
        )
        return [_run(r) for r in self._conn.execute(query)]

    def claim_runs(self, now_us: int, limit: int, lease_us: int) -> builtins.list[CanvasRun]:
        query = (
            select(canvas_runs)
            .where(
                canvas_runs.c.status.in_(UNFINISHED),
                canvas_runs.c.next_at <= now_us,
                or_(canvas_runs.c.lease_until.is_(None), canvas_runs.c.lease_until <= now_us),
            )
            .order_by(canvas_runs.c.next_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        runs = [_run(r) for r in self._conn.execute(query)]
        if runs:
            self._conn.execute(
                update(canvas_runs)
                .where(canvas_runs.c.id.in_([r.id for r in runs]))
                .values(lease_until=lease_us)
            )
        return runs

    def retained(self, before: datetime) -> builtins.list[CanvasRun]:
        query = select(canvas_runs).where(
            canvas_runs.c.status.in_(("completed", "failed")),
            canvas_runs.c.created_at < before,
            canvas_runs.c.cleaned_at.is_(None),
        )
        return [_run(r) for r in self._conn.execute(query)]

    def table_rows(
        self, workspace_id: str, table: str, columns: Sequence[str]
    ) -> builtins.list[tuple[Any, ...]]:
        if table not in COPYABLE:
            raise ValueError(f"{table!r} is not copied to data sources")
        source = metadata.tables[table]
        query = select(*(source.c[c] for c in columns)).where(source.c.workspace_id == workspace_id)
        return [tuple(r) for r in self._conn.execute(query)]
