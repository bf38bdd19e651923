"""Captured messages, suppressions, the send ledger and signing secrets, in SQL."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from clarion.model.messages import RenderedMessage
from clarion.storage.base import CapturedMessage, Page, Suppression
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    captured_messages,
    send_ledger,
    suppressions,
    workspace_secrets,
)
from clarion.storage.schema import (
    channel_configs as channel_config_table,
)
from clarion.storage.sql.bulk import BulkInsert
from clarion.storage.sql.dialect import insert_ignoring_conflicts, upsert
from clarion.storage.sql.driver import driver_json, driver_time, execute, json_param


def _capture_sql(dialect: str) -> str:
    """A captured message; one captured again (a resend after a crash) is left alone."""
    json = json_param(dialect)
    return (
        'INSERT INTO captured_messages (id, workspace_id, profile_id, channel, "to", subject,'
        f" html, text, body, fields, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
        f" {json}, {json}, ?) ON CONFLICT (id) DO NOTHING"
    )


_COUNT = BulkInsert(
    send_ledger,
    ("message_id", "workspace_id", "profile_id", "channel", "category", "sent_at"),
    ("message_id",),
)
"""A send counted against caps (once: a resend after a crash is the same message)."""


class SqlCapture:
    """`CaptureRepo`: the capture provider's store of rendered messages."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def store(self, messages: Sequence[RenderedMessage], now: datetime) -> None:
        if not messages:
            return
        big = ("subject", "html", "text", "body")
        dialect = self._dialect
        stamp = driver_time(dialect, now)
        execute(
            self._conn,
            dialect,
            _capture_sql(dialect),
            [
                (
                    m.message_id,
                    m.workspace_id,
                    m.profile_id,
                    m.channel,
                    m.to,
                    *(m.fields.get(c) for c in big),
                    # The other fields (preheader, encoding, payloads, ...); the big
                    # ones above are stored once, in their columns.
                    driver_json({k: v for k, v in m.fields.items() if k not in big}),
                    driver_json(m.source),
                    stamp,
                )
                for m in dict((m.message_id, m) for m in messages).values()
            ],
        )

    def list(
        self,
        workspace_id: str,
        page: Page,
        *,
        profile_id: str | None = None,
        channel: str | None = None,
        source: str | None = None,
    ) -> builtins.list[CapturedMessage]:
        query = (
            select(captured_messages)
            .where(captured_messages.c.workspace_id == workspace_id)
            .order_by(captured_messages.c.seq)
            .limit(page.limit)
        )
        if profile_id:
            query = query.where(captured_messages.c.profile_id == profile_id)
        if channel:
            query = query.where(captured_messages.c.channel == channel)
        if page.after:
            query = query.where(captured_messages.c.seq > int(page.after))
        rows = [r for r in self._conn.execute(query)]
        if source:
            rows = [
                r
                for r in rows
                if source in (r.source.get("id"), r.source.get("name"), r.source.get("kind"))
            ]
        return [
            CapturedMessage(
                r.id,
                r.seq,
                r.profile_id,
                r.channel,
                r.to,
                r.subject,
                r.html,
                r.text,
                r.body,
                {
                    **r.fields,
                    **{
                        c: getattr(r, c)
                        for c in ("subject", "html", "text", "body")
                        if getattr(r, c) is not None
                    },
                },
                r.source,
                r.created_at,
            )
            for r in rows
        ]


class SqlSuppressions:
    """`SuppressionRepo`: addresses that must not be sent to, by hash."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def add(
        self,
        workspace_id: str,
        channel: str,
        address_hash: str,
        address: str | None,
        reason: str,
        now: datetime,
    ) -> None:
        self._conn.execute(
            upsert(
                self._dialect,
                suppressions,
                ["workspace_id", "channel", "address_hash"],
                ["reason", "created_at"],
            ),
            {
                "workspace_id": workspace_id,
                "channel": channel,
                "address_hash": address_hash,
                "address": address,
                "reason": reason,
                "created_at": now,
            },
        )

    def remove(self, workspace_id: str, channel: str, address_hash: str) -> bool:
        return (
            self._conn.execute(
                delete(suppressions).where(
                    suppressions.c.workspace_id == workspace_id,
                    suppressions.c.channel == channel,
                    suppressions.c.address_hash == address_hash,
                )
            ).rowcount
            > 0
        )

    def matching(self, workspace_id: str, channel: str, hashes: Sequence[str]) -> dict[str, str]:
        """Suppressed hashes (for `channel` or every channel) and why; where an address is
        suppressed for several reasons, one that also stops transactional mail wins."""
        if not hashes:
            return {}
        rows = self._conn.execute(
            select(suppressions.c.address_hash, suppressions.c.reason).where(
                suppressions.c.workspace_id == workspace_id,
                suppressions.c.channel.in_([channel, "*"]),
                suppressions.c.address_hash.in_(list(dict.fromkeys(hashes))),
            )
        )
        found: dict[str, str] = {}
        for row in rows:
            if found.get(row.address_hash) in (None, "complaint"):
                found[row.address_hash] = row.reason
        return found

    def list(self, workspace_id: str, page: Page) -> builtins.list[Suppression]:
        query = (
            select(suppressions)
            .where(suppressions.c.workspace_id == workspace_id)
            .order_by(suppressions.c.address_hash)
            .limit(page.limit)
        )
        if page.after:
            query = query.where(suppressions.c.address_hash > page.after)
        return [
            Suppression(r.channel, r.address_hash, r.address, r.reason, r.created_at)
            for r in self._conn.execute(query)
        ]

    def forget_address(self, workspace_id: str, address_hash: str) -> None:
        from sqlalchemy import update

        self._conn.execute(
            update(suppressions)
            .where(
                suppressions.c.workspace_id == workspace_id,
                suppressions.c.address_hash == address_hash,
            )
            .values(address=None)
        )


class SqlLedger:
    """`LedgerRepo`: sends counted against frequency caps."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def lock_profiles(self, workspace_id: str, profile_ids: Sequence[str]) -> None:
        """Serialise check-and-count per profile across dispatchers (PostgreSQL)."""
        if self._dialect != "postgresql":
            return  # SQLite: the write transaction already excludes other writers
        from sqlalchemy import text

        for pid in sorted(set(profile_ids)):
            self._conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"cap:{workspace_id}:{pid}"},
            )

    def since(
        self, workspace_id: str, profile_ids: Sequence[str], since_us: int
    ) -> builtins.list[tuple[str, str, str, int]]:
        """(profile id, channel, category, sent at) of counted sends after `since_us`."""
        if not profile_ids:
            return []
        rows = self._conn.execute(
            select(
                send_ledger.c.profile_id,
                send_ledger.c.channel,
                send_ledger.c.category,
                send_ledger.c.sent_at,
            ).where(
                send_ledger.c.workspace_id == workspace_id,
                send_ledger.c.profile_id.in_(list(dict.fromkeys(profile_ids))),
                send_ledger.c.sent_at >= since_us,
            )
        )
        return [(r.profile_id, r.channel, r.category, r.sent_at) for r in rows]

    def count(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record sends: dicts of message_id, workspace_id, profile_id, channel, category,
        sent_at."""
        _COUNT.execute(self._conn, [tuple(r[c] for c in _COUNT.columns) for r in rows])

    def uncount(self, message_id: str) -> None:
        self._conn.execute(delete(send_ledger).where(send_ledger.c.message_id == message_id))


_SIGNING_KEY = select(workspace_secrets.c.signing_key).where(
    workspace_secrets.c.workspace_id == bindparam("workspace_id")
)


def signing_key(conn: Connection, dialect: str, workspace_id: str) -> str:
    """The workspace's HMAC key for tracking links, created on first use.

    Read first: a read transaction (a link being followed) must not try to write, or
    SQLite refuses it while another connection writes."""
    found = conn.execute(_SIGNING_KEY, {"workspace_id": workspace_id}).scalar_one_or_none()
    if found is not None:
        return str(found)
    conn.execute(
        insert_ignoring_conflicts(dialect, workspace_secrets, "workspace_id").values(
            workspace_id=workspace_id, signing_key=secrets.token_hex(32)
        )
    )
    return str(conn.execute(_SIGNING_KEY, {"workspace_id": workspace_id}).scalar_one())


def channel_configs(conn: Connection, workspace_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """A workspace's channel provider configurations."""
    rows = conn.execute(
        select(channel_config_table).where(channel_config_table.c.workspace_id == workspace_id)
    )
    return {r.channel: (r.provider, dict(r.settings)) for r in rows}


def set_channel_config(
    conn: Connection,
    dialect: str,
    workspace_id: str,
    channel: str,
    provider: str,
    settings: dict[str, Any],
    now: datetime,
) -> None:
    """Set the provider of one channel of a workspace."""
    conn.execute(
        upsert(
            dialect,
            channel_config_table,
            ["workspace_id", "channel"],
            ["provider", "settings", "updated_at"],
        ),
        {
            "workspace_id": workspace_id,
            "channel": channel,
            "provider": provider,
            "settings": settings,
            "updated_at": now,
        },
    )


@erasure_hook("captured_messages")
def _erase_captured(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(captured_messages).where(
                captured_messages.c.workspace_id == workspace_id,
                captured_messages.c.profile_id == profile_id,
            )
        ).rowcount
    )


@erasure_hook("send_ledger")
def _erase_ledger(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(send_ledger).where(
                send_ledger.c.workspace_id == workspace_id, send_ledger.c.profile_id == profile_id
            )
        ).rowcount
    )
