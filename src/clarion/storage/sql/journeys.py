"""Journey states, instances, waits, timers and statistics, in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, or_, select, text, update

from clarion.storage.base import JourneyState
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    journey_instances,
    journey_states,
    journey_stats,
    journey_timers,
    journey_waits,
)
from clarion.storage.sql.bulk import BulkInsert
from clarion.storage.sql.dialect import upsert


def _state(row: Any) -> JourneyState:
    return JourneyState(
        row.workspace_id,
        row.journey,
        row.status,
        row.live_version,
        dict(row.pinned),
        row.published_at,
    )


_SAVE = BulkInsert(
    journey_instances,
    (
        "id",
        "workspace_id",
        "journey",
        "version",
        "profile_id",
        "status",
        "node",
        "state",
        "entered_at",
        "updated_at",
    ),
    ("id",),
    update=("status", "node", "state", "updated_at", "version", "profile_id"),
)
_WAITS = BulkInsert(
    journey_waits, ("instance_id", "event", "workspace_id", "profile_id"), ("instance_id", "event")
)
_SCHEDULE = BulkInsert(
    journey_timers,
    (
        "instance_id",
        "key",
        "workspace_id",
        "profile_id",
        "due_at",
        "kind",
        "payload",
        "attempts",
        "lease_until",
    ),
    ("instance_id", "key"),
    update=("due_at", "kind", "payload", "attempts", "lease_until"),
)
_COUNT = BulkInsert(
    journey_stats,
    ("workspace_id", "journey", "version", "node", "counter", "value"),
    ("workspace_id", "journey", "version", "node", "counter"),
    add="value",
)


_RUNNING = ("live", "paused", "closed")
"""Journey statuses whose instances still move."""


class SqlJourneys:
    """`JourneyRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    # --- lifecycle -----------------------------------------------------------

    def state(self, workspace_id: str, journey: str) -> JourneyState | None:
        row = self._conn.execute(
            select(journey_states).where(
                journey_states.c.workspace_id == workspace_id, journey_states.c.journey == journey
            )
        ).first()
        return _state(row) if row else None

    def set_state(
        self,
        workspace_id: str,
        journey: str,
        status: str,
        live_version: int | None,
        pinned: dict[str, Any],
        now: datetime,
        *,
        published: bool = False,
    ) -> None:
        current = self.state(workspace_id, journey)
        published_at = now if published else (current.published_at if current else None)
        self._conn.execute(
            upsert(
                self._dialect,
                journey_states,
                ["workspace_id", "journey"],
                ["status", "live_version", "pinned", "published_at", "updated_at"],
            ),
            {
                "workspace_id": workspace_id,
                "journey": journey,
                "status": status,
                "live_version": live_version,
                "pinned": pinned,
                "published_at": published_at,
                "updated_at": now,
            },
        )

    def running(self, workspace_id: str) -> builtins.list[JourneyState]:
        """Journeys that are live, paused or closed (their instances still move)."""
        rows = self._conn.execute(
            select(journey_states).where(
                journey_states.c.workspace_id == workspace_id,
                journey_states.c.status.in_(_RUNNING),
            )
        )
        return [_state(r) for r in rows]

    def any_running(self) -> bool:
        query = (
            select(journey_states.c.journey).where(journey_states.c.status.in_(_RUNNING)).limit(1)
        )
        return self._conn.execute(query).first() is not None

    # --- instances -----------------------------------------------------------

    def instances_of(
        self, workspace_id: str, profile_id: str, *, active: bool = True
    ) -> builtins.list[dict[str, Any]]:
        query = select(journey_instances.c.state).where(
            journey_instances.c.workspace_id == workspace_id,
            journey_instances.c.profile_id == profile_id,
        )
        if active:
            query = query.where(journey_instances.c.status.in_(["active", "waiting"]))
        return [dict(r.state) for r in self._conn.execute(query.order_by(journey_instances.c.id))]

    def active_of(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> builtins.list[dict[str, Any]]:
        """The walks in progress of several profiles."""
        found: builtins.list[dict[str, Any]] = []
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), 500):
            rows = self._conn.execute(
                select(journey_instances.c.state).where(
                    journey_instances.c.workspace_id == workspace_id,
                    journey_instances.c.profile_id.in_(ids[start : start + 500]),
                    journey_instances.c.status.in_(["active", "waiting"]),
                )
            )
            found.extend(dict(r.state) for r in rows)
        return found

    def last_entries(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> dict[tuple[str, str], int]:
        """When each of these profiles last entered each journey (µs)."""
        found: dict[tuple[str, str], int] = {}
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), 500):
            rows = self._conn.execute(
                select(
                    journey_instances.c.journey,
                    journey_instances.c.profile_id,
                    func.max(journey_instances.c.entered_at),
                )
                .where(
                    journey_instances.c.workspace_id == workspace_id,
                    journey_instances.c.profile_id.in_(ids[start : start + 500]),
                )
                .group_by(journey_instances.c.journey, journey_instances.c.profile_id)
            )
            found.update({(str(j), str(p)): int(t) for j, p, t in rows})
        return found

    def instances(self, instance_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not instance_ids:
            return {}
        rows = self._conn.execute(
            select(journey_instances.c.id, journey_instances.c.state).where(
                journey_instances.c.id.in_(list(instance_ids))
            )
        )
        return {r.id: dict(r.state) for r in rows}

    def awaited(self, workspace_id: str, profile_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(profile, event name) pairs that waiting instances of these profiles react to."""
        found: set[tuple[str, str]] = set()
        ids = list(dict.fromkeys(profile_ids))
        for start in range(0, len(ids), 500):
            rows = self._conn.execute(
                select(journey_waits.c.profile_id, journey_waits.c.event).where(
                    journey_waits.c.workspace_id == workspace_id,
                    journey_waits.c.profile_id.in_(ids[start : start + 500]),
                )
            )
            found.update((str(p), str(e)) for p, e in rows)
        return found

    def refresh_statistics(self) -> None:
        # As for identities (see SqlProfiles.refresh_statistics): on young, fast-growing
        # tables PostgreSQL's statistics say "empty" until autovacuum's next round, and
        # the batch lookups by profile became scans (300 ms each at 20,000 instances).
        if self._dialect == "postgresql":
            self._conn.execute(text("ANALYZE journey_instances"))
            self._conn.execute(text("ANALYZE journey_waits"))

    def of_journey(
        self,
        workspace_id: str,
        journey: str,
        *,
        status: Sequence[str],
        node: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[dict[str, Any]]:
        query = select(journey_instances.c.state).where(
            journey_instances.c.workspace_id == workspace_id,
            journey_instances.c.journey == journey,
            journey_instances.c.status.in_(list(status)),
        )
        if node is not None:
            query = query.where(journey_instances.c.node == node)
        rows = self._conn.execute(query.order_by(journey_instances.c.id).limit(limit))
        return [dict(r.state) for r in rows]

    def last_entry(
        self, workspace_id: str, journey: str, profile_id: str
    ) -> tuple[int, bool] | None:
        """When the profile last entered the journey, and whether that walk is still on."""
        row = self._conn.execute(
            select(journey_instances.c.entered_at, journey_instances.c.status)
            .where(
                journey_instances.c.workspace_id == workspace_id,
                journey_instances.c.journey == journey,
                journey_instances.c.profile_id == profile_id,
            )
            .order_by(journey_instances.c.entered_at.desc())
            .limit(1)
        ).first()
        return (int(row.entered_at), row.status in ("active", "waiting")) if row else None

    def count_instances(self, workspace_id: str, journey: str, *, active: bool) -> int:
        query = (
            select(func.count())
            .select_from(journey_instances)
            .where(
                journey_instances.c.workspace_id == workspace_id,
                journey_instances.c.journey == journey,
            )
        )
        if active:
            query = query.where(journey_instances.c.status.in_(["active", "waiting"]))
        return int(self._conn.execute(query).scalar_one())

    def waiting_counts(self, workspace_id: str, journey: str) -> dict[tuple[int, str], int]:
        rows = self._conn.execute(
            select(journey_instances.c.version, journey_instances.c.node, func.count())
            .where(
                journey_instances.c.workspace_id == workspace_id,
                journey_instances.c.journey == journey,
                journey_instances.c.status == "waiting",
            )
            .group_by(journey_instances.c.version, journey_instances.c.node)
        )
        return {(int(v), str(n)): int(c) for v, n, c in rows}

    def save(self, rows: Sequence[dict[str, Any]], now_us: int) -> None:
        """Store instances (their JSON state) and what they wait for."""
        if not rows:
            return
        _SAVE.execute(
            self._conn,
            [
                (
                    s["id"],
                    s["workspace_id"],
                    s["journey"],
                    s["version"],
                    s["profile_id"],
                    s["status"],
                    s["node"],
                    s,
                    s["entered_us"],
                    now_us,
                )
                for s in rows
            ],
        )
        ids = [s["id"] for s in rows]
        for start in range(0, len(ids), 500):
            self._conn.execute(
                delete(journey_waits).where(
                    journey_waits.c.instance_id.in_(ids[start : start + 500])
                )
            )
        waits = [
            (s["id"], name, s["workspace_id"], s["profile_id"])
            for s in rows
            if s.get("waiting") and s["status"] == "waiting"
            for name in dict.fromkeys(s["waiting"].get("events", []))
        ]
        _WAITS.execute(self._conn, waits)
        done = [s["id"] for s in rows if s["status"] in ("completed", "exited")]
        for start in range(0, len(done), 500):
            self._conn.execute(
                delete(journey_timers).where(
                    journey_timers.c.instance_id.in_(done[start : start + 500])
                )
            )

    # --- timers ------------------------------------------------------------------

    def schedule(self, rows: Sequence[dict[str, Any]]) -> None:
        """Timers (or HTTP calls): dicts of instance_id, key, workspace_id, profile_id,
        due_at, kind, payload."""
        _SCHEDULE.execute(
            self._conn,
            [
                (
                    r["instance_id"],
                    r["key"],
                    r["workspace_id"],
                    r["profile_id"],
                    r["due_at"],
                    r["kind"],
                    r["payload"],
                    0,
                    None,
                )
                for r in rows
            ],
        )

    def claim_due(
        self, kinds: Sequence[str], limit: int, before_us: int, now_us: int, lease_us: int
    ) -> builtins.list[dict[str, Any]]:
        """Due timers (due before `before_us`) not leased by another worker; leases them."""
        query = (
            select(journey_timers)
            .where(
                journey_timers.c.kind.in_(list(kinds)),
                journey_timers.c.due_at <= before_us,
                or_(journey_timers.c.lease_until.is_(None), journey_timers.c.lease_until <= now_us),
            )
            .order_by(journey_timers.c.due_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [dict(r._mapping) for r in self._conn.execute(query)]
        if rows:
            self._conn.execute(
                update(journey_timers)
                .where(
                    journey_timers.c.instance_id == bindparam("t_instance"),
                    journey_timers.c.key == bindparam("t_key"),
                )
                .values(lease_until=now_us + lease_us, attempts=journey_timers.c.attempts + 1),
                [{"t_instance": r["instance_id"], "t_key": r["key"]} for r in rows],
            )
        return rows

    def move_timers(self, instance_id: str, profile_id: str) -> None:
        """An instance's timers follow it to another profile (after a merge)."""
        self._conn.execute(
            update(journey_timers)
            .where(journey_timers.c.instance_id == instance_id)
            .values(profile_id=profile_id)
        )

    def delete_timer(self, instance_id: str, key: str) -> None:
        self._conn.execute(
            delete(journey_timers).where(
                journey_timers.c.instance_id == instance_id, journey_timers.c.key == key
            )
        )

    def timers_of(self, instance_id: str) -> builtins.list[dict[str, Any]]:
        rows = self._conn.execute(
            select(journey_timers)
            .where(journey_timers.c.instance_id == instance_id)
            .order_by(journey_timers.c.due_at)
        )
        return [dict(r._mapping) for r in rows]

    # --- statistics ----------------------------------------------------------

    def count(self, rows: Sequence[tuple[str, str, int, str, str, int]]) -> None:
        """Add to counters: (workspace, journey, version, node, counter, delta)."""
        totals: dict[tuple[str, str, int, str, str], int] = {}
        for ws, journey, version, node, counter, delta in rows:
            key = (ws, journey, version, node, counter)
            totals[key] = totals.get(key, 0) + delta
        _COUNT.execute(self._conn, [(*key, delta) for key, delta in totals.items()])

    def stats(self, workspace_id: str, journey: str) -> builtins.list[tuple[int, str, str, int]]:
        rows = self._conn.execute(
            select(
                journey_stats.c.version,
                journey_stats.c.node,
                journey_stats.c.counter,
                journey_stats.c.value,
            ).where(
                journey_stats.c.workspace_id == workspace_id, journey_stats.c.journey == journey
            )
        )
        return [(int(v), str(n), str(c), int(x)) for v, n, c, x in rows]


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


erasure_hook("journey_instances")(_erase(journey_instances))
erasure_hook("journey_waits")(_erase(journey_waits))
erasure_hook("journey_timers")(_erase(journey_timers))
