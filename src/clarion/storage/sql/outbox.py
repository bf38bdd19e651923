"""The transactional outbox in SQL: intents written with their cause, claimed by dispatchers."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, delete, select, update

from clarion.clock import to_micros
from clarion.model.messages import Category, MessageIntent, MessageSource, QueuedMessage
from clarion.storage.base import Page
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import outbox
from clarion.storage.sql.bulk import BulkInsert
from clarion.storage.sql.dialect import json_reader
from clarion.storage.sql.driver import driver_time, execute


def _queued(row: Any) -> QueuedMessage:
    intent = MessageIntent(
        workspace_id=row.workspace_id,
        channel=row.channel,
        template=row.template,
        source=MessageSource.from_json(row.source),
        profile_id=row.profile_id,
        address=row.address,
        category=Category(row.category),
        template_version=row.template_version,
        subscription_group=row.subscription_group,
        context=row.context,
        event=row.event,
        row=row.row,
    )
    intent.remember_id(row.id)  # not always the hash: a run's ids are in snapshot order
    return QueuedMessage(
        intent,
        row.status,
        row.attempts,
        row.due_at,
        row.reason,
        row.throttle_key,
        row.throttle_rate,
        row.provider,
        row.provider_message_id,
        row.sent_to,
        row.id,
    )


_ENQUEUE = BulkInsert(
    outbox,
    (
        "id",
        "workspace_id",
        "profile_id",
        "address",
        "channel",
        "template",
        "template_version",
        "category",
        "subscription_group",
        "source",
        "context",
        "event",
        "row",
        "throttle_key",
        "throttle_rate",
        "status",
        "attempts",
        "due_at",
        "lease_until",
        "created_at",
        "updated_at",
    ),
    ("id",),
)
"""New intents; a repeated id is left alone."""


_CLAIMED = (
    "id, workspace_id, profile_id, address, channel, template, template_version, category,"
    " subscription_group, source, context, event, row, throttle_key, throttle_rate, status,"
    " attempts, due_at, reason, provider, provider_message_id, sent_to"
)
_DUE = "(status = 'pending' AND due_at <= ?) OR (status = 'sending' AND lease_until <= ?)"


def _claim_sql(dialect: str) -> str:
    """Mark the longest-due messages `sending` with a lease, returning them.

    Parameters: now and limit for each of the two kinds of due message, the limit,
    then the lease's end and the time. Pending messages and those whose lease ran
    out are found apart, each in `ix_outbox_due` order and cut at the limit: one
    condition with OR made the database collect and sort every due message on each
    claim (a million queued by a campaign were sorted a thousand at a time).
    """
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    due = (
        "WITH pending AS (SELECT id, due_at FROM outbox WHERE status = 'pending'"
        f" AND due_at <= ? ORDER BY due_at LIMIT ?{lock}),"
        " expired AS (SELECT id, due_at FROM outbox WHERE status = 'sending'"
        f" AND lease_until <= ? ORDER BY due_at LIMIT ?{lock}),"
        " due AS (SELECT id FROM (SELECT id, due_at FROM pending UNION ALL"
        " SELECT id, due_at FROM expired) AS found ORDER BY due_at LIMIT ?)"
    )
    set_lease = "status = 'sending', lease_until = ?, attempts = attempts + 1, updated_at = ?"
    if dialect == "postgresql":
        # SKIP LOCKED: concurrent dispatchers take disjoint batches without waiting.
        returned = ", ".join(f"outbox.{c.strip()}" for c in _CLAIMED.split(","))
        return (
            f"{due} UPDATE outbox SET {set_lease} FROM due"
            f" WHERE outbox.id = due.id RETURNING {returned}"
        )
    return (
        f"{due} UPDATE outbox SET {set_lease} WHERE id IN (SELECT id FROM due) RETURNING {_CLAIMED}"
    )


_CATEGORIES = {c.value: c for c in Category}


def _claimed(
    row: Any, load: Callable[[Any], Any], sources: dict[Any, MessageSource]
) -> QueuedMessage:
    """A `QueuedMessage` from a claim's driver row (JSON as text on SQLite). `sources`
    keeps the sources parsed so far by their JSON text: a campaign run's messages share
    one."""
    (
        mid,
        workspace_id,
        profile_id,
        address,
        channel,
        template,
        template_version,
        category,
        group,
        source,
        context,
        event,
        data,
        throttle_key,
        throttle_rate,
        status,
        attempts,
        due_at,
        reason,
        provider,
        provider_message_id,
        sent_to,
    ) = row
    parsed = sources.get(source) if isinstance(source, str) else None
    if parsed is None:
        parsed = MessageSource.from_json(load(source))
        if isinstance(source, str):
            sources[source] = parsed
    intent = MessageIntent(
        workspace_id=workspace_id,
        channel=channel,
        template=template,
        source=parsed,
        profile_id=profile_id,
        address=address,
        category=_CATEGORIES[category],
        template_version=template_version,
        subscription_group=group,
        context=load(context),
        event=load(event),
        row=load(data),
    )
    # The row's id is the intent's message id (the outbox is keyed by it): no need to
    # hash the source and recipient again.
    intent.remember_id(mid)
    return QueuedMessage(
        intent,
        status,
        attempts,
        due_at,
        reason,
        throttle_key,
        throttle_rate,
        provider,
        provider_message_id,
        sent_to,
        mid,
    )


class ClaimedRows:
    """`ClaimedBatch`: a claim's driver rows, parsed per workspace when asked for."""

    _WORKSPACE, _DUE_AT = 1, 17  # positions in `_CLAIMED`

    def __init__(self, rows: Sequence[Any], load: Callable[[Any], Any]) -> None:
        self._by_workspace: dict[str, builtins.list[Any]] = {}
        for row in sorted(rows, key=itemgetter(self._DUE_AT)):
            self._by_workspace.setdefault(row[self._WORKSPACE], []).append(row)
        self._count = len(rows)
        self._load = load

    def __len__(self) -> int:
        return self._count

    def workspaces(self) -> builtins.list[str]:
        return builtins.list(self._by_workspace)

    def messages(self, workspace_id: str) -> builtins.list[QueuedMessage]:
        load = self._load
        sources: dict[Any, MessageSource] = {}
        return [_claimed(row, load, sources) for row in self._by_workspace.get(workspace_id, ())]


class SqlOutbox:
    """`OutboxRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def enqueue(
        self,
        intents: Sequence[MessageIntent],
        now: datetime,
        *,
        due_at: datetime | None = None,
        throttle_key: str | None = None,
        throttle_rate: float | None = None,
        lease_seconds: float | None = None,
    ) -> builtins.list[str]:
        if not intents:
            return []
        due = to_micros(due_at or now)
        status, attempts, lease_until = "pending", 0, None
        if lease_seconds is not None:
            status, attempts = "sending", 1
            lease_until = to_micros(now) + int(lease_seconds * 1e6)
        # Intents of one run share their source: one JSON object for them all, which
        # `BulkInsert` then serialises once.
        sources: dict[int, dict[str, Any]] = {}
        rows = [
            (
                intent.message_id,
                intent.workspace_id,
                intent.profile_id,
                intent.address,
                intent.channel,
                intent.template,
                intent.template_version,
                intent.category.value,
                intent.subscription_group,
                sources.get(id(intent.source))
                or sources.setdefault(id(intent.source), intent.source.as_json()),
                intent.context,
                intent.event,
                intent.row,
                throttle_key,
                throttle_rate,
                status,
                attempts,
                due,
                lease_until,
                now,
                now,
            )
            for intent in intents
        ]
        return _ENQUEUE.returning(self._conn, rows, "id")

    def claim(
        self, limit: int, now: datetime, lease_seconds: float
    ) -> builtins.list[QueuedMessage]:
        batch = self.claim_batch(limit, now, lease_seconds)
        claimed = [m for w in batch.workspaces() for m in batch.messages(w)]
        claimed.sort(key=lambda item: item.due_at_us)
        return claimed

    def claim_batch(self, limit: int, now: datetime, lease_seconds: float) -> ClaimedRows:
        """Take due messages (and those whose dispatcher died mid-send) for this dispatcher:
        one statement marks them `sending` with a lease and returns them."""
        now_us = to_micros(now)
        lease_until = now_us + int(lease_seconds * 1e6)
        lease = (lease_until, driver_time(self._dialect, now))
        due = (now_us, limit, now_us, limit, limit)
        rows = execute(self._conn, self._dialect, _claim_sql(self._dialect), due + lease).all()
        return ClaimedRows(rows, json_reader(self._dialect))

    def anything_due(self, now: datetime) -> bool:
        now_us = to_micros(now)
        query = f"SELECT 1 FROM outbox WHERE {_DUE} LIMIT 1"
        return execute(self._conn, self._dialect, query, (now_us, now_us)).first() is not None

    def finish(
        self,
        message_id: str,
        status: str,
        now: datetime,
        *,
        reason: str | None = None,
        provider: str | None = None,
        provider_message_id: str | None = None,
        sent_to: str | None = None,
    ) -> None:
        """Record a final state: sent, skipped or failed."""
        self.finish_many(
            [
                {
                    "id": message_id,
                    "status": status,
                    "reason": reason,
                    "provider": provider,
                    "provider_message_id": provider_message_id,
                    "sent_to": sent_to,
                }
            ],
            now,
        )

    def finish_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Record final states in one statement: dicts of id, status, reason, provider,
        provider_message_id, sent_to."""
        if not rows:
            return
        stamp = driver_time(self._dialect, now)
        sql = (
            "UPDATE outbox SET status = ?, reason = ?, provider = ?, provider_message_id = ?,"
            " sent_to = ?, lease_until = NULL, updated_at = ? WHERE id = ?"
        )
        params = [
            (
                r["status"],
                r.get("reason"),
                r.get("provider"),
                r.get("provider_message_id"),
                r.get("sent_to"),
                stamp,
                r["id"],
            )
            for r in rows
        ]
        execute(self._conn, self._dialect, sql, params)

    def defer(
        self, message_id: str, until: datetime, now: datetime, reason: str, *, retry: bool = False
    ) -> None:
        """Put a message back to wait until `until` (quiet hours, throttling, a retry)."""
        values: dict[str, Any] = {
            "status": "pending",
            "due_at": to_micros(until),
            "reason": reason,
            "lease_until": None,
            "updated_at": now,
        }
        if not retry:  # held back, not attempted: the claim does not count as an attempt
            values["attempts"] = outbox.c.attempts - 1
        self._conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))

    def get(self, workspace_id: str, message_id: str) -> QueuedMessage | None:
        row = self._conn.execute(
            select(outbox).where(outbox.c.workspace_id == workspace_id, outbox.c.id == message_id)
        ).first()
        return _queued(row) if row else None

    def list(
        self, workspace_id: str, page: Page, *, status: str | None = None
    ) -> builtins.list[QueuedMessage]:
        query = (
            select(outbox)
            .where(outbox.c.workspace_id == workspace_id)
            .order_by(outbox.c.id)
            .limit(page.limit)
        )
        if status:
            query = query.where(outbox.c.status == status)
        if page.after:
            query = query.where(outbox.c.id > page.after)
        return [_queued(r) for r in self._conn.execute(query)]

    def counts(self, workspace_id: str) -> dict[str, int]:
        """Messages per status."""
        from sqlalchemy import func

        rows = self._conn.execute(
            select(outbox.c.status, func.count())
            .where(outbox.c.workspace_id == workspace_id)
            .group_by(outbox.c.status)
        )
        return {status: int(n) for status, n in rows}


@erasure_hook("outbox")
def _erase_outbox(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(outbox).where(
                outbox.c.workspace_id == workspace_id, outbox.c.profile_id == profile_id
            )
        ).rowcount
    )
