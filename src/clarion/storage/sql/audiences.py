"""Audience memberships, re-evaluation timers and backfill status, in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Container, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, func, select, text

from clarion.storage.base import AudienceStatus, Page, ProfileFacts
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    audience_members,
    audience_status,
    audience_timers,
)
from clarion.storage.sql.bulk import BulkInsert
from clarion.storage.sql.dialect import (
    in_json_list,
    insert_ignoring_conflicts,
    json_reader,
    upsert,
)

_CHUNK = 500
# PostgreSQL: one statement over a JSON array of rows (executemany costs a round of the
# pipeline per row, and the driver dumps Python lists as arrays element by element).
_PG_ROWS = "jsonb_array_elements(CAST(:rows AS jsonb)) AS r"
_PG_ADD = text(
    "INSERT INTO audience_members (workspace_id, audience, profile_id, since)"
    f" SELECT :w, r->>0, r->>1, :since FROM {_PG_ROWS} ON CONFLICT DO NOTHING"
)
_PG_REMOVE = text(
    f"DELETE FROM audience_members m USING {_PG_ROWS}"
    " WHERE m.workspace_id = :w AND m.audience = r->>0 AND m.profile_id = r->>1"
)
_PG_SCHEDULE = text(
    "INSERT INTO audience_timers (workspace_id, audience, profile_id, due_at)"
    f" SELECT r->>0, r->>1, r->>2, CAST(r->>3 AS bigint) FROM {_PG_ROWS}"
    " ON CONFLICT (workspace_id, audience, profile_id) DO UPDATE SET due_at = excluded.due_at"
)
_PG_CANCEL = text(
    f"DELETE FROM audience_timers x USING {_PG_ROWS}"
    " WHERE x.workspace_id = r->>0 AND x.audience = r->>1 AND x.profile_id = r->>2"
)
# SQLite: the driver's executemany of one prepared statement (SQLAlchemy's executemany
# spends tens of µs a row on parameters).
_SQLITE_ADD = BulkInsert(
    audience_members,
    ("workspace_id", "audience", "profile_id", "since"),
    ("workspace_id", "audience", "profile_id"),
)
_SQLITE_SCHEDULE = BulkInsert(
    audience_timers,
    ("workspace_id", "audience", "profile_id", "due_at"),
    ("workspace_id", "audience", "profile_id"),
    update=("due_at",),
)
_SQLITE_REMOVE = (
    "DELETE FROM audience_members WHERE workspace_id = ? AND audience = ? AND profile_id = ?"
)
_SQLITE_CANCEL = (
    "DELETE FROM audience_timers WHERE workspace_id = ? AND audience = ? AND profile_id = ?"
)
# Reads of a batch's profiles: compiled once (the IN list expands per call).
_MEMBERSHIPS = text(
    "SELECT profile_id, audience FROM audience_members"
    " WHERE workspace_id = :w AND profile_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_TIMERS = text(
    "SELECT audience, profile_id, due_at FROM audience_timers"
    " WHERE workspace_id = :w AND profile_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
# The stored state of exact (audience, profile) pairs: a primary-key lookup per pair (the
# tables' other indexes do not cover a profile's timers, and SQLite scans a whole
# workspace's memberships rather than seek each of a long IN list). Membership is read
# from the key alone (a covering index: no second seek for `since`). The pairs come
# grouped by audience (`:groups`, `{audience: [profile, ...]}`: each name parsed once,
# as a key); timers are looked up only for the audiences in `:timed`.
_SQLITE_STATE = text(
    "WITH r AS MATERIALIZED (SELECT a.key AS a, p.value AS p,"
    " a.key IN (SELECT value FROM json_each(:timed)) AS timed"
    " FROM json_each(:groups) AS a, json_each(a.value) AS p)"
    " SELECT a, p, m.profile_id IS NOT NULL, t.due_at FROM r"
    " LEFT JOIN audience_members AS m"
    "  ON m.workspace_id = :w AND m.audience = r.a AND m.profile_id = r.p"
    " LEFT JOIN audience_timers AS t"
    "  ON r.timed AND t.workspace_id = :w AND t.audience = r.a AND t.profile_id = r.p"
    " WHERE m.profile_id IS NOT NULL OR t.due_at IS NOT NULL"
)
_PG_STATE = text(
    "WITH r AS (SELECT g.a, p.id AS p,"
    " g.a IN (SELECT jsonb_array_elements_text(CAST(:timed AS jsonb))) AS timed"
    " FROM jsonb_each(CAST(:groups AS jsonb)) AS g(a, ids),"
    " jsonb_array_elements_text(g.ids) AS p(id))"
    " SELECT r.a, r.p, m.since IS NOT NULL, t.due_at FROM r"
    " LEFT JOIN audience_members AS m"
    "  ON m.workspace_id = :w AND m.audience = r.a AND m.profile_id = r.p"
    " LEFT JOIN audience_timers AS t"
    "  ON r.timed AND t.workspace_id = :w AND t.audience = r.a AND t.profile_id = r.p"
    " WHERE m.since IS NOT NULL OR t.due_at IS NOT NULL"
)
_FACTS = {
    dialect: text(
        "SELECT id, traits, timezone FROM profiles"
        f" WHERE workspace_id = :w AND {in_json_list(dialect, 'id', 'ids')}"
    )
    for dialect in ("sqlite", "postgresql")
}
_IDENTITIES = {
    dialect: text(
        "SELECT profile_id, namespace, value FROM identities"
        f" WHERE workspace_id = :w AND {in_json_list(dialect, 'profile_id', 'ids')}"
    )
    for dialect in ("sqlite", "postgresql")
}


def _rows(rows: Sequence[tuple[Any, ...]]) -> str:
    """Rows as the JSON array the `jsonb_array_elements` statements read."""
    return orjson.dumps(rows).decode()


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
                _MEMBERSHIPS, {"w": workspace_id, "ids": ids[start : start + _CHUNK]}
            )
            for pid, audience in rows.all():
                held = found.get(pid)
                if held is None:
                    found[pid] = {audience}
                else:
                    held.add(audience)
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

    def change(
        self,
        workspace_id: str,
        entered: Sequence[tuple[str, str]],
        exited: Sequence[tuple[str, str]],
        since_us: int,
    ) -> None:
        pg = self._dialect == "postgresql"
        if entered and pg:
            self._conn.execute(
                _PG_ADD,
                {"w": workspace_id, "since": since_us, "rows": _rows(entered)},
            )
        elif entered:
            _SQLITE_ADD.execute(self._conn, [(workspace_id, a, p, since_us) for a, p in entered])
        if exited and pg:
            self._conn.execute(_PG_REMOVE, {"w": workspace_id, "rows": _rows(exited)})
        elif exited:
            self._conn.exec_driver_sql(_SQLITE_REMOVE, [(workspace_id, a, p) for a, p in exited])

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
        if rows and self._dialect == "postgresql":
            last = {(w, a, p): (w, a, p, d) for w, a, p, d in rows}  # one update per row
            self._conn.execute(_PG_SCHEDULE, {"rows": _rows(list(last.values()))})
        elif rows:
            _SQLITE_SCHEDULE.execute(self._conn, rows)

    def cancel(self, rows: Sequence[tuple[str, str, str]]) -> None:
        if rows and self._dialect == "postgresql":
            self._conn.execute(_PG_CANCEL, {"rows": _rows(rows)})
        elif rows:
            self._conn.exec_driver_sql(_SQLITE_CANCEL, list(rows))

    def timers(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(audience, profile) -> due µs of these profiles' timers."""
        found: dict[tuple[str, str], int] = {}
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), _CHUNK):
            rows = self._conn.execute(
                _TIMERS, {"w": workspace_id, "ids": ids[start : start + _CHUNK]}
            )
            found.update(((audience, pid), due) for audience, pid, due in rows.all())
        return found

    def state(
        self,
        workspace_id: str,
        pairs: Sequence[tuple[str, str]],
        timed: Container[str] | None = None,
    ) -> tuple[set[tuple[str, str]], dict[tuple[str, str], int]]:
        members: set[tuple[str, str]] = set()
        timers: dict[tuple[str, str], int] = {}
        statement = _PG_STATE if self._dialect == "postgresql" else _SQLITE_STATE
        for start in range(0, len(pairs), 5000):
            grouped: dict[str, list[str]] = {}
            for audience, pid in pairs[start : start + 5000]:
                grouped.setdefault(audience, []).append(pid)
            params = {
                "w": workspace_id,
                "groups": orjson.dumps(grouped).decode(),
                "timed": orjson.dumps([a for a in grouped if timed is None or a in timed]).decode(),
            }
            for audience, pid, member, due in self._conn.execute(statement, params).all():
                if member:
                    members.add((audience, pid))
                if due is not None:
                    timers[(audience, pid)] = due
        return members, timers

    def refresh_statistics(self) -> None:
        # PostgreSQL plans the pair and track lookups from table statistics: on young
        # tables they say "tiny", and the lookups turn into scans of the whole workspace
        # (hash joins over memberships and timers, a bitmap scan of its events).
        # SQLite always uses the primary key (and the events' profile index).
        if self._dialect == "postgresql":
            self._conn.execute(text("ANALYZE audience_members"))
            self._conn.execute(text("ANALYZE audience_timers"))
            self._conn.execute(text("ANALYZE events"))

    def facts(
        self, workspace_id: str, profile_ids: Sequence[str], identities: bool
    ) -> dict[str, ProfileFacts]:
        found: dict[str, ProfileFacts] = {}
        ids = list(dict.fromkeys(profile_ids))
        load = json_reader(self._dialect)
        for start in range(0, len(ids), 5000):
            params = {"w": workspace_id, "ids": orjson.dumps(ids[start : start + 5000]).decode()}
            for pid, traits, timezone in self._conn.execute(_FACTS[self._dialect], params):
                found[pid] = ProfileFacts(pid, load(traits), timezone, [])
            if identities:
                rows = self._conn.execute(_IDENTITIES[self._dialect], params)
                for pid, namespace, value in rows:
                    facts = found.get(pid)
                    if facts is not None:
                        facts.identities.append((namespace, value))
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
