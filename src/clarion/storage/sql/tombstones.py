"""Tombstones of erased identities and the erasure audit, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, update

from clarion.ids import new_id
from clarion.storage.schema import erasures, tombstones
from clarion.storage.sql.dialect import insert_ignoring_conflicts


class SqlTombstones:
    """`TombstoneRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def add(self, workspace_id: str, hashes: Sequence[str], now: datetime) -> None:
        if hashes:
            self._conn.execute(
                insert_ignoring_conflicts(
                    self._dialect, tombstones, "workspace_id", "identity_hash"
                ),
                [
                    {
                        "workspace_id": workspace_id,
                        "identity_hash": h,
                        "dropped_events": 0,
                        "created_at": now,
                    }
                    for h in dict.fromkeys(hashes)
                ],
            )

    def any(self, workspace_id: str) -> bool:
        return (
            self._conn.execute(
                select(tombstones.c.identity_hash)
                .where(tombstones.c.workspace_id == workspace_id)
                .limit(1)
            ).first()
            is not None
        )

    def matching(self, workspace_id: str, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        rows = self._conn.execute(
            select(tombstones.c.identity_hash).where(
                tombstones.c.workspace_id == workspace_id,
                tombstones.c.identity_hash.in_(list(dict.fromkeys(hashes))),
            )
        )
        return {r.identity_hash for r in rows}

    def count_dropped(self, workspace_id: str, counts: dict[str, int]) -> None:
        if counts:
            self._conn.execute(
                update(tombstones)
                .where(
                    tombstones.c.workspace_id == workspace_id,
                    tombstones.c.identity_hash == bindparam("t_hash"),
                )
                .values(dropped_events=tombstones.c.dropped_events + bindparam("t_count")),
                [{"t_hash": h, "t_count": n} for h, n in counts.items()],
            )

    def dropped(self, workspace_id: str) -> int:
        total = self._conn.execute(
            select(func.coalesce(func.sum(tombstones.c.dropped_events), 0)).where(
                tombstones.c.workspace_id == workspace_id
            )
        ).scalar()
        return int(total or 0)

    def audit(
        self,
        workspace_id: str,
        subject_hash: str,
        key_id: str | None,
        rows: dict[str, int],
        now: datetime,
    ) -> str:
        audit_id = new_id()
        self._conn.execute(
            erasures.insert().values(
                id=audit_id,
                workspace_id=workspace_id,
                subject_hash=subject_hash,
                key_id=key_id,
                rows=rows,
                created_at=now,
            )
        )
        return audit_id
