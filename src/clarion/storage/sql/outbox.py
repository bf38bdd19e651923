"""The transactional outbox in SQL: intents written with their cause, claimed by dispatchers."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, or_, select, update

from clarion.clock import to_micros
from clarion.model.messages import Category, MessageIntent, MessageSource, QueuedMessage
from clarion.storage.base import Page
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import outbox
from clarion.storage.sql.dialect import insert_ignoring_conflicts


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
    ) -> builtins.list[str]:
        """Queue intents; returns the ids that were new (a repeated id is left alone)."""
        if not intents:
            return []
        due = to_micros(due_at or now)
        rows = []
        seen = set()
        for intent in intents:
            mid = intent.message_id
            if mid in seen:
                continue
            seen.add(mid)
            rows.append(
                {
                    "id": mid,
                    "workspace_id": intent.workspace_id,
                    "profile_id": intent.profile_id,
                    "address": intent.address,
                    "channel": intent.channel,
                    "template": intent.template,
                    "template_version": intent.template_version,
                    "category": intent.category.value,
                    "subscription_group": intent.subscription_group,
                    "source": intent.source.as_json(),
                    "context": intent.context,
                    "event": intent.event,
                    "row": intent.row,
                    "throttle_key": throttle_key,
                    "throttle_rate": throttle_rate,
                    "status": "pending",
                    "attempts": 0,
                    "due_at": due,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        stmt = insert_ignoring_conflicts(self._dialect, outbox, "id").returning(outbox.c.id)
        return [r.id for r in self._conn.execute(stmt, rows)]

    def claim(
        self, limit: int, now: datetime, lease_seconds: float
    ) -> builtins.list[QueuedMessage]:
        """Take due messages (and those whose dispatcher died mid-send) for this dispatcher."""
        now_us = to_micros(now)
        due = or_(
            (outbox.c.status == "pending") & (outbox.c.due_at <= now_us),
            (outbox.c.status == "sending") & (outbox.c.lease_until <= now_us),
        )
        query = select(outbox).where(due).order_by(outbox.c.due_at).limit(limit)
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self._conn.execute(query).all()
        if rows:
            self._conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(
                    status="sending",
                    lease_until=now_us + int(lease_seconds * 1e6),
                    attempts=outbox.c.attempts + 1,
                    updated_at=now,
                )
            )
        claimed = [_queued(r) for r in rows]
        for item in claimed:
            item.attempts += 1
            item.status = "sending"
        return claimed

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
        self._conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("f_id"))
            .values(
                status=bindparam("f_status"),
                reason=bindparam("f_reason"),
                provider=bindparam("f_provider"),
                provider_message_id=bindparam("f_provider_message_id"),
                sent_to=bindparam("f_sent_to"),
                lease_until=None,
                updated_at=now,
            ),
            [
                {
                    "f_id": r["id"],
                    "f_status": r["status"],
                    "f_reason": r.get("reason"),
                    "f_provider": r.get("provider"),
                    "f_provider_message_id": r.get("provider_message_id"),
                    "f_sent_to": r.get("sent_to"),
                }
                for r in rows
            ],
        )

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
