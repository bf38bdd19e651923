"""SQL access to the tables of channels and surfaces (issue 10), with their erasure hooks.

Each function takes a transaction of the SQL backend (`tx.conn`). Profiles that
were merged keep their content: reads include every profile merged into the
survivor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    direct_mail_rows,
    direct_mail_runs,
    identities,
    profile_merges,
    push_subscriptions,
    surface_items,
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


def live_items(
    tx: Any, workspace_id: str, profile_ids: Sequence[str], surface: str | None, now_us: int
) -> list[dict[str, Any]]:
    """Undismissed, unexpired items of the profiles (on one surface, or all)."""
    c = surface_items.c
    query = select(surface_items).where(
        c.workspace_id == workspace_id,
        c.profile_id.in_(list(profile_ids)),
        c.dismissed_at.is_(None),
        or_(c.expires_at.is_(None), c.expires_at > now_us),
        or_(c.max_impressions.is_(None), c.impressions < c.max_impressions),
    )
    if surface is not None:
        query = query.where(c.surface == surface)
    return [dict(r._mapping) for r in _conn(tx).execute(query)]


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


def last_seen(tx: Any, workspace_id: str, profile_ids: Sequence[str], channel: str) -> int | None:
    c = surface_items.c
    value = (
        _conn(tx)
        .execute(
            select(func.max(c.last_seen_at)).where(
                c.workspace_id == workspace_id,
                c.profile_id.in_(list(profile_ids)),
                c.channel == channel,
            )
        )
        .scalar()
    )
    return int(value) if value is not None else None


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
