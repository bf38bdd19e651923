"""Profiles, identities and merges in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, or_, select, text, update

from clarion.model.profiles import Identity, ProfileRecord
from clarion.storage.base import Page
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    consent_history,
    events,
    identities,
    profile_merges,
    profiles,
    subscriptions,
)
from clarion.storage.sql.dialect import upsert

_CHUNK = 500


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _record(row: Any) -> ProfileRecord:
    return ProfileRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        traits=dict(row.traits),
        trait_times=dict(row.trait_times),
        created_at=row.created_at,
        updated_at=row.updated_at,
        timezone=row.timezone,
        locale=row.locale,
        is_test=bool(row.is_test),
    )


def load_records(
    conn: Connection, workspace_id: str, ids: builtins.list[str]
) -> dict[str, ProfileRecord]:
    """Profiles with their identities, through SQLAlchemy's column types (any backend)."""
    records: dict[str, ProfileRecord] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(profiles).where(
                profiles.c.workspace_id == workspace_id, profiles.c.id.in_(chunk)
            )
        )
        records.update({r.id: _record(r) for r in rows})
        idents = conn.execute(
            select(identities.c.namespace, identities.c.value, identities.c.profile_id).where(
                identities.c.workspace_id == workspace_id, identities.c.profile_id.in_(chunk)
            )
        )
        for r in idents:
            if r.profile_id in records:
                records[r.profile_id].identities.add((r.namespace, r.value))
    return records


_SQLITE_PROFILES = (
    "SELECT id, workspace_id, traits, trait_times, created_at, updated_at, timezone, locale,"
    " is_test FROM profiles WHERE workspace_id = ? AND id IN ({marks})"
)
_SQLITE_IDENTITIES = (
    "SELECT profile_id, namespace, value FROM identities"
    " WHERE workspace_id = ? AND profile_id IN ({marks})"
)


def _load_sqlite(
    conn: Connection, workspace_id: str, ids: builtins.list[str]
) -> dict[str, ProfileRecord]:
    """`load` on SQLite through the driver: the consumers load every profile of a batch,
    and SQLAlchemy's row processing (JSON, two datetimes) cost ~12 µs a profile, as much
    as the rest of a journey entry's Python. Values are converted as the column types
    would (JSON text by orjson, naive UTC datetimes made aware)."""
    records: dict[str, ProfileRecord] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        params = (workspace_id, *chunk)
        for row in conn.exec_driver_sql(_SQLITE_PROFILES.format(marks=marks), params):
            pid, ws, traits, times, created, updated, timezone, locale, is_test = row
            records[pid] = ProfileRecord(
                id=pid,
                workspace_id=ws,
                traits=orjson.loads(traits),
                trait_times=orjson.loads(times),
                created_at=_sqlite_datetime(created),
                updated_at=_sqlite_datetime(updated),
                timezone=timezone,
                locale=locale,
                is_test=bool(is_test),
            )
        for pid, namespace, value in conn.exec_driver_sql(
            _SQLITE_IDENTITIES.format(marks=marks), params
        ):
            record = records.get(pid)
            if record is not None:
                record.identities.add((namespace, value))
    return records


def _sqlite_datetime(value: str) -> datetime:
    """A `UtcDateTime` as SQLite stores it (naive, UTC), made aware."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


_OWNERS = select(identities.c.value, identities.c.profile_id).where(
    identities.c.workspace_id == bindparam("workspace_id"),
    identities.c.namespace == bindparam("namespace"),
    identities.c.value.in_(bindparam("values", expanding=True)),
)
"""Built once: building a select costs more than running it (~150 against ~25 µs)."""


class SqlProfiles:
    """`ProfileRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def owners(self, workspace_id: str, wanted: Sequence[Identity]) -> dict[Identity, str]:
        found: dict[Identity, str] = {}
        by_namespace: dict[str, list[str]] = {}
        for namespace, value in dict.fromkeys(wanted):
            by_namespace.setdefault(namespace, []).append(value)
        for namespace, values in by_namespace.items():
            for chunk in _chunks(values):
                params = {"workspace_id": workspace_id, "namespace": namespace, "values": chunk}
                rows = self._conn.execute(_OWNERS, params)
                found.update({(namespace, r.value): r.profile_id for r in rows})
        return found

    def load(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[str, ProfileRecord]:
        wanted = list(dict.fromkeys(profile_ids))
        if self._dialect == "sqlite":
            return _load_sqlite(self._conn, workspace_id, wanted)
        return load_records(self._conn, workspace_id, wanted)

    def get(self, workspace_id: str, profile_id: str) -> ProfileRecord | None:
        return self.load(workspace_id, [profile_id]).get(profile_id)

    def list(self, workspace_id: str, page: Page) -> builtins.list[ProfileRecord]:
        query = (
            select(profiles.c.id)
            .where(profiles.c.workspace_id == workspace_id)
            .order_by(profiles.c.id)
            .limit(page.limit)
        )
        if page.after:
            query = query.where(profiles.c.id > page.after)
        ids = [r.id for r in self._conn.execute(query)]
        loaded = self.load(workspace_id, ids)
        return [loaded[i] for i in ids if i in loaded]

    def insert(self, records: Sequence[ProfileRecord]) -> None:
        if records:
            self._conn.execute(
                profiles.insert(),
                [
                    {
                        "id": r.id,
                        "workspace_id": r.workspace_id,
                        "traits": r.traits,
                        "trait_times": r.trait_times,
                        "timezone": r.timezone,
                        "locale": r.locale,
                        "is_test": r.is_test,
                        "created_at": r.created_at,
                        "updated_at": r.updated_at,
                    }
                    for r in records
                ],
            )

    def update(self, records: Sequence[ProfileRecord]) -> None:
        if records:
            self._conn.execute(
                update(profiles)
                .where(profiles.c.id == bindparam("p_id"))
                .values(
                    traits=bindparam("p_traits"),
                    trait_times=bindparam("p_times"),
                    timezone=bindparam("p_tz"),
                    locale=bindparam("p_locale"),
                    is_test=bindparam("p_test"),
                    updated_at=bindparam("p_updated"),
                ),
                [
                    {
                        "p_id": r.id,
                        "p_traits": r.traits,
                        "p_times": r.trait_times,
                        "p_tz": r.timezone,
                        "p_locale": r.locale,
                        "p_test": r.is_test,
                        "p_updated": r.updated_at,
                    }
                    for r in records
                ],
            )

    def delete(self, workspace_id: str, profile_ids: Sequence[str]) -> None:
        for chunk in _chunks(list(profile_ids)):
            self._conn.execute(
                delete(profiles).where(
                    profiles.c.workspace_id == workspace_id, profiles.c.id.in_(chunk)
                )
            )

    def assign(
        self, workspace_id: str, owners: Sequence[tuple[Identity, str]], now: datetime
    ) -> None:
        if owners:
            stmt = upsert(
                self._dialect, identities, ["workspace_id", "namespace", "value"], ["profile_id"]
            )
            self._conn.execute(
                stmt,
                [
                    {
                        "workspace_id": workspace_id,
                        "namespace": ns,
                        "value": value,
                        "profile_id": pid,
                        "created_at": now,
                    }
                    for (ns, value), pid in owners
                ],
            )

    def record_merge(
        self, workspace_id: str, merged_id: str, survivor_id: str, reason: str, now: datetime
    ) -> None:
        ws = workspace_id
        self._conn.execute(
            update(profile_merges)
            .where(profile_merges.c.workspace_id == ws, profile_merges.c.survivor_id == merged_id)
            .values(survivor_id=survivor_id)
        )
        self._conn.execute(
            profile_merges.insert().values(
                workspace_id=ws,
                merged_id=merged_id,
                survivor_id=survivor_id,
                reason=reason,
                created_at=now,
            )
        )
        self._conn.execute(
            update(events)
            .where(events.c.workspace_id == ws, events.c.profile_id == merged_id)
            .values(profile_id=survivor_id)
        )
        self._conn.execute(
            update(consent_history)
            .where(consent_history.c.workspace_id == ws, consent_history.c.profile_id == merged_id)
            .values(profile_id=survivor_id)
        )
        self._move_subscriptions(ws, merged_id, survivor_id)

    def _move_subscriptions(self, ws: str, merged_id: str, survivor_id: str) -> None:
        """Consent of both people: per (channel, group) the more recent state wins."""
        rows = self._conn.execute(
            select(subscriptions).where(
                subscriptions.c.workspace_id == ws,
                subscriptions.c.profile_id.in_([merged_id, survivor_id]),
            )
        ).all()
        best: dict[tuple[str, str], Any] = {}
        for row in rows:
            key = (row.channel, row.group)
            if key not in best or row.updated_at > best[key].updated_at:
                best[key] = row
        self._conn.execute(
            delete(subscriptions).where(
                subscriptions.c.workspace_id == ws,
                subscriptions.c.profile_id.in_([merged_id, survivor_id]),
            )
        )
        if best:
            self._conn.execute(
                subscriptions.insert(),
                [
                    {
                        "workspace_id": ws,
                        "profile_id": survivor_id,
                        "channel": r.channel,
                        "group": r.group,
                        "status": r.status,
                        "source": r.source,
                        "updated_at": r.updated_at,
                    }
                    for r in best.values()
                ],
            )

    def refresh_statistics(self) -> None:
        # PostgreSQL plans identity lookups from table statistics; on a young,
        # fast-growing table they say "empty" until autovacuum's next round and
        # point lookups degrade into scans. SQLite always uses the primary key.
        if self._dialect == "postgresql":
            self._conn.execute(text("ANALYZE identities"))
            self._conn.execute(text("ANALYZE profiles"))

    def merged_away(self, workspace_id: str, profile_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(profile_ids))):
            rows = self._conn.execute(
                select(profile_merges.c.merged_id).where(
                    profile_merges.c.workspace_id == workspace_id,
                    profile_merges.c.merged_id.in_(chunk),
                )
            )
            found.update(r.merged_id for r in rows)
        return found

    def survivor(self, workspace_id: str, profile_id: str) -> str | None:
        return self._conn.execute(
            select(profile_merges.c.survivor_id).where(
                profile_merges.c.workspace_id == workspace_id,
                profile_merges.c.merged_id == profile_id,
            )
        ).scalar()


@erasure_hook("profiles")
def _erase_profiles(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(profiles).where(
                profiles.c.workspace_id == workspace_id, profiles.c.id == profile_id
            )
        ).rowcount
    )


@erasure_hook("identities")
def _erase_identities(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(identities).where(
                identities.c.workspace_id == workspace_id, identities.c.profile_id == profile_id
            )
        ).rowcount
    )


@erasure_hook("profile_merges")
def _erase_merges(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(profile_merges).where(
                profile_merges.c.workspace_id == workspace_id,
                or_(
                    profile_merges.c.survivor_id == profile_id,
                    profile_merges.c.merged_id == profile_id,
                ),
            )
        ).rowcount
    )
