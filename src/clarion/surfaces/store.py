"""SQL access to the tables of channels and surfaces (issue 10), with their erasure hooks.

Each function takes a transaction of the SQL backend (`tx.conn`). Profiles that
were merged keep their content: reads include every profile merged into the
survivor. The statements of the surface read path (every `GET /v1/surfaces`)
are built once, with bound parameters, so that a request costs two executions
and no statement building.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)

from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    direct_mail_rows,
    direct_mail_runs,
    identities,
    profile_merges,
    push_subscriptions,
    surface_items,
    workspace_secrets,
    workspaces,
)


def _conn(tx: Any) -> Connection:
    conn: Connection = tx.conn
    return conn


def _upsert(tx: Any, table: Any, keys: list[str], row: dict[str, Any]) -> None:
    conn = _conn(tx)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    stmt = stmt.values(row)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={k: stmt.excluded[k] for k in row if k not in keys}
    )
    conn.execute(stmt)


# --- surface items ----------------------------------------------------------


def put_items(tx: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace items (by id: a resent message replaces its item, keeping state)."""
    conn = _conn(tx)
    ids = [r["id"] for r in rows]
    existing = set(
        conn.execute(select(surface_items.c.id).where(surface_items.c.id.in_(ids))).scalars()
    )
    fresh = [r for r in rows if r["id"] not in existing]
    if fresh:
        conn.execute(surface_items.insert(), fresh)
    for row in rows:
        if row["id"] in existing:
            content = {
                k: row[k] for k in ("content", "priority", "pinned", "expires_at", "surface")
            }
            conn.execute(
                update(surface_items)
                .where(
                    surface_items.c.id == row["id"],
                    surface_items.c.workspace_id == row["workspace_id"],
                )
                .values(**content)
            )


def profile_family(tx: Any, workspace_id: str, profile_id: str) -> list[str]:
    """The profile and every profile merged into it."""
    merged = (
        _conn(tx)
        .execute(
            select(profile_merges.c.merged_id).where(
                profile_merges.c.workspace_id == workspace_id,
                profile_merges.c.survivor_id == profile_id,
            )
        )
        .scalars()
    )
    return [profile_id, *merged]


# --- the surface read path -------------------------------------------------------


class RawReads:
    """A read-only stand-in for a transaction on the surface hot path: a pooled DBAPI
    connection, statements compiled once per dialect, no transaction (each SELECT reads
    a consistent snapshot; SQLite's connections are in autocommit mode). Saves most of
    SQLAlchemy's per-execution work; the SQL is the same as on a `tx`."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self.connection, self.dialect = connection, dialect


@contextmanager
def raw_reads(engine: Engine) -> Iterator[RawReads]:
    connection = engine.raw_connection()
    try:
        yield RawReads(connection, engine.dialect)
    finally:
        connection.close()  # back to the pool (which rolls back what a driver began)


_COMPILED: dict[tuple[int, str], tuple[str, list[str] | None]] = {}
_JSON_COLUMNS = frozenset({"content", "settings"})


def _compiled(stmt: Any, dialect: Dialect) -> tuple[str, list[str] | None]:
    key = (id(stmt), dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        compiled = stmt.compile(dialect=dialect)
        order = list(compiled.positiontup or []) if compiled.positional else None
        found = _COMPILED[key] = (compiled.string, order)
    return found


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """What SQLAlchemy's result processing would give: JSON decoded, booleans as bool."""
    for name in _JSON_COLUMNS & row.keys():
        if isinstance(row[name], str | bytes):
            row[name] = orjson.loads(row[name])
    if "pinned" in row:
        row["pinned"] = bool(row["pinned"])
    return row


def _rows(tx: Any, stmt: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a module-level statement, on a `tx` or on `RawReads`."""
    if isinstance(tx, RawReads):
        sql, order = _compiled(stmt, tx.dialect)
        cursor = tx.connection.cursor()
        try:
            cursor.execute(sql, [params[n] for n in order] if order is not None else params)
            names = [d[0] for d in cursor.description]
            return [_typed(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
        finally:
            cursor.close()
    return [dict(r._mapping) for r in _conn(tx).execute(stmt, params)]


_owner, _user = identities.alias("owner"), identities.alias("user")
_FACTS = (
    select(
        workspaces.c.settings.label("settings"),
        workspace_secrets.c.signing_key.label("signing_key"),
        _owner.c.profile_id.label("owner_id"),
        _user.c.value.label("user_id"),
    )
    .select_from(
        workspaces.outerjoin(workspace_secrets, workspace_secrets.c.workspace_id == workspaces.c.id)
        .outerjoin(
            _owner,
            and_(
                _owner.c.workspace_id == workspaces.c.id,
                _owner.c.namespace == bindparam("namespace"),
                _owner.c.value == bindparam("value"),
            ),
        )
        .outerjoin(
            _user,
            and_(
                _user.c.workspace_id == workspaces.c.id,
                _user.c.profile_id == _owner.c.profile_id,
                _user.c.namespace == bindparam("user_namespace"),
            ),
        )
    )
    .where(workspaces.c.id == bindparam("workspace_id"))
)


@dataclass(frozen=True, slots=True)
class ViewerFacts:
    """What deciding a surface request needs, read in one query."""

    settings: dict[str, Any]
    signing_key: str | None
    """None until the workspace first needs one (then no identity token can be valid)."""
    profile_id: str | None
    """The profile holding the identity, if any."""
    user_ids: list[str]
    """That profile's user ids."""


def viewer_facts(tx: Any, workspace_id: str, namespace: str, value: str) -> ViewerFacts:
    """The workspace's settings and signing key, the profile holding an identity, and its
    user ids: one query, and one execution (never a write, unlike `tx.signing_key`)."""
    params = {
        "workspace_id": workspace_id,
        "namespace": namespace,
        "value": value,
        "user_namespace": "user_id",
    }
    rows = _rows(tx, _FACTS, params)
    if not rows:
        return ViewerFacts({}, None, None, [])
    first = rows[0]
    users = [r["user_id"] for r in rows if r["user_id"] is not None]
    return ViewerFacts(
        dict(first["settings"] or {}), first["signing_key"], first["owner_id"], users
    )


_FAMILY = or_(
    surface_items.c.profile_id == bindparam("profile_id"),
    surface_items.c.profile_id.in_(
        select(profile_merges.c.merged_id).where(
            profile_merges.c.workspace_id == bindparam("workspace_id"),
            profile_merges.c.survivor_id == bindparam("profile_id"),
        )
    ),
)
"""An item of the profile, or of a profile merged into it."""

_LIVE = (
    select(surface_items)
    .where(
        surface_items.c.workspace_id == bindparam("workspace_id"),
        _FAMILY,
        surface_items.c.dismissed_at.is_(None),
        or_(surface_items.c.expires_at.is_(None), surface_items.c.expires_at > bindparam("now")),
        or_(
            surface_items.c.max_impressions.is_(None),
            surface_items.c.impressions < surface_items.c.max_impressions,
        ),
    )
    .order_by(
        surface_items.c.pinned.desc(),
        surface_items.c.priority.desc(),
        surface_items.c.created_at.desc(),
        surface_items.c.id,
    )
)
_LIVE_ON = _LIVE.where(surface_items.c.surface == bindparam("surface"))


def live_items(
    tx: Any, workspace_id: str, profile_id: str, surface: str | None, now_us: int
) -> list[dict[str, Any]]:
    """Undismissed, unexpired, under-cap items of the profile (on one surface, or all):
    pinned first, then by priority, newest first."""
    params: dict[str, Any] = {"workspace_id": workspace_id, "profile_id": profile_id, "now": now_us}
    if surface is not None:
        params["surface"] = surface
    return _rows(tx, _LIVE_ON if surface is not None else _LIVE, params)


def get_item(tx: Any, workspace_id: str, item_id: str) -> dict[str, Any] | None:
    row = (
        _conn(tx)
        .execute(
            select(surface_items).where(
                surface_items.c.workspace_id == workspace_id, surface_items.c.id == item_id
            )
        )
        .first()
    )
    return dict(row._mapping) if row else None


def mark_item(tx: Any, workspace_id: str, item_id: str, action: str, now_us: int) -> None:
    """Record an impression (`read`), a click or a dismissal."""
    c = surface_items.c
    values: dict[str, Any]
    if action == "read":
        values = {
            "impressions": c.impressions + 1,
            "last_seen_at": now_us,
            "read_at": func.coalesce(c.read_at, now_us),
        }
    elif action == "click":
        values = {"clicked_at": func.coalesce(c.clicked_at, now_us)}
    else:
        values = {"dismissed_at": func.coalesce(c.dismissed_at, now_us)}
    _conn(tx).execute(
        update(surface_items)
        .where(c.workspace_id == workspace_id, c.id == item_id)
        .values(**values)
    )


_LAST_SEEN = select(func.max(surface_items.c.last_seen_at).label("seen")).where(
    surface_items.c.workspace_id == bindparam("workspace_id"),
    _FAMILY,
    surface_items.c.channel == bindparam("channel"),
)


def last_seen(tx: Any, workspace_id: str, profile_id: str, channel: str) -> int | None:
    """When the profile (or one merged into it) last saw an item of `channel`."""
    params = {"workspace_id": workspace_id, "profile_id": profile_id, "channel": channel}
    [row] = _rows(tx, _LAST_SEEN, params)
    return int(row["seen"]) if row["seen"] is not None else None


@erasure_hook("surface_items")
def _erase_items(tx: Any, workspace_id: str, profile_id: str) -> int:
    c = surface_items.c
    result = _conn(tx).execute(
        delete(surface_items).where(c.workspace_id == workspace_id, c.profile_id == profile_id)
    )
    return int(result.rowcount)


# --- device tokens and web push subscriptions ------------------------------


def remove_device_token(tx: Any, workspace_id: str, token: str) -> int:
    """Forget a push token the vendor called invalid (whoever holds it)."""
    c = identities.c
    result = _conn(tx).execute(
        delete(identities).where(
            c.workspace_id == workspace_id, c.namespace == "device_token", c.value == token
        )
    )
    if token.startswith("webpush:"):
        _conn(tx).execute(
            delete(push_subscriptions).where(
                push_subscriptions.c.workspace_id == workspace_id,
                push_subscriptions.c.id == token.removeprefix("webpush:"),
            )
        )
    return int(result.rowcount)


def put_subscription(
    tx: Any,
    workspace_id: str,
    sub_id: str,
    endpoint: str,
    p256dh: str,
    auth: str,
    profile_id: str | None,
    now: datetime,
) -> None:
    _upsert(
        tx,
        push_subscriptions,
        ["workspace_id", "id"],
        {
            "workspace_id": workspace_id,
            "id": sub_id,
            "profile_id": profile_id,
            "endpoint": endpoint,
            "p256dh": p256dh,
            "auth": auth,
            "created_at": now,
        },
    )


def get_subscription(tx: Any, workspace_id: str, sub_id: str) -> dict[str, Any] | None:
    row = (
        _conn(tx)
        .execute(
            select(push_subscriptions).where(
                push_subscriptions.c.workspace_id == workspace_id, push_subscriptions.c.id == sub_id
            )
        )
        .first()
    )
    return dict(row._mapping) if row else None


def claim_subscription(tx: Any, workspace_id: str, sub_id: str, profile_id: str) -> None:
    """Remember which profile a subscription belongs to (for erasure)."""
    c = push_subscriptions.c
    _conn(tx).execute(
        update(push_subscriptions)
        .where(
            c.workspace_id == workspace_id,
            c.id == sub_id,
            or_(c.profile_id.is_(None), c.profile_id != profile_id),
        )
        .values(profile_id=profile_id)
    )


@erasure_hook("push_subscriptions")
def _erase_subscriptions(tx: Any, workspace_id: str, profile_id: str) -> int:
    c = push_subscriptions.c
    result = _conn(tx).execute(
        delete(push_subscriptions).where(c.workspace_id == workspace_id, c.profile_id == profile_id)
    )
    return int(result.rowcount)


# --- direct mail -------------------------------------------------------------


def put_mail_rows(tx: Any, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        _upsert(tx, direct_mail_rows, ["message_id"], row)


def mail_rows(tx: Any, workspace_id: str, run: str) -> list[dict[str, Any]]:
    c = direct_mail_rows.c
    query = select(c.row).where(c.workspace_id == workspace_id, c.run == run).order_by(c.message_id)
    return [dict(r) for r in _conn(tx).execute(query).scalars()]


def record_mail_run(
    tx: Any, workspace_id: str, run: str, csv_path: str, parquet_path: str, rows: int, now: datetime
) -> None:
    _upsert(
        tx,
        direct_mail_runs,
        ["workspace_id", "run"],
        {
            "workspace_id": workspace_id,
            "run": run,
            "csv_path": csv_path,
            "parquet_path": parquet_path,
            "rows": rows,
            "updated_at": now,
        },
    )


def mail_run(tx: Any, workspace_id: str, run: str) -> dict[str, Any] | None:
    c = direct_mail_runs.c
    row = (
        _conn(tx)
        .execute(select(direct_mail_runs).where(and_(c.workspace_id == workspace_id, c.run == run)))
        .first()
    )
    return dict(row._mapping) if row else None


@erasure_hook("direct_mail_rows")
def _erase_mail_rows(tx: Any, workspace_id: str, profile_id: str) -> int:
    c = direct_mail_rows.c
    result = _conn(tx).execute(
        delete(direct_mail_rows).where(c.workspace_id == workspace_id, c.profile_id == profile_id)
    )
    return int(result.rowcount)
