"""Subscription groups, consent states and their history, in SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from clarion.ids import new_id
from clarion.model.consent import (
    ConsentChange,
    ConsentState,
    GroupDefault,
    Status,
    SubscriptionGroup,
)
from clarion.storage.base import Page
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    address_subscriptions,
    consent_history,
    subscription_groups,
    subscriptions,
)
from clarion.storage.sql.dialect import upsert


def _group(row: Any) -> SubscriptionGroup:
    return SubscriptionGroup(
        row.id,
        row.workspace_id,
        row.name,
        row.channel,
        GroupDefault(row.default_status),
        row.description,
        row.created_at,
    )


def _state(row: Any) -> ConsentState:
    return ConsentState(row.channel, row.group, Status(row.status), row.source, row.updated_at)


class SqlConsent:
    """`ConsentRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    def groups(self, workspace_id: str) -> builtins.list[SubscriptionGroup]:
        rows = self._conn.execute(
            select(subscription_groups)
            .where(subscription_groups.c.workspace_id == workspace_id)
            .order_by(subscription_groups.c.name)
        )
        return [_group(r) for r in rows]

    def group(self, workspace_id: str, name: str) -> SubscriptionGroup | None:
        row = self._conn.execute(
            select(subscription_groups).where(
                subscription_groups.c.workspace_id == workspace_id,
                subscription_groups.c.name == name,
            )
        ).first()
        return _group(row) if row else None

    def put_group(
        self,
        workspace_id: str,
        name: str,
        channel: str,
        default: GroupDefault,
        description: str,
        now: datetime,
    ) -> SubscriptionGroup:
        current = self.group(workspace_id, name)
        if current is None:
            self._conn.execute(
                subscription_groups.insert().values(
                    id=new_id(),
                    workspace_id=workspace_id,
                    name=name,
                    channel=channel,
                    default_status=default.value,
                    description=description,
                    created_at=now,
                )
            )
        else:
            self._conn.execute(
                update(subscription_groups)
                .where(subscription_groups.c.id == current.id)
                .values(channel=channel, default_status=default.value, description=description)
            )
        group = self.group(workspace_id, name)
        assert group is not None
        return group

    def delete_group(self, workspace_id: str, name: str) -> bool:
        return (
            self._conn.execute(
                delete(subscription_groups).where(
                    subscription_groups.c.workspace_id == workspace_id,
                    subscription_groups.c.name == name,
                )
            ).rowcount
            > 0
        )

    def profile_states(self, workspace_id: str, profile_id: str) -> builtins.list[ConsentState]:
        rows = self._conn.execute(
            select(subscriptions)
            .where(
                subscriptions.c.workspace_id == workspace_id,
                subscriptions.c.profile_id == profile_id,
            )
            .order_by(subscriptions.c.channel, subscriptions.c.group)
        )
        return [_state(r) for r in rows]

    def address_states(
        self, workspace_id: str, channel: str, address_hash: str
    ) -> builtins.list[ConsentState]:
        rows = self._conn.execute(
            select(address_subscriptions).where(
                address_subscriptions.c.workspace_id == workspace_id,
                address_subscriptions.c.channel == channel,
                address_subscriptions.c.address_hash == address_hash,
            )
        )
        return [_state(r) for r in rows]

    def profile_states_many(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> dict[str, builtins.list[ConsentState]]:
        found: dict[str, builtins.list[ConsentState]] = {}
        if profile_ids:
            rows = self._conn.execute(
                select(subscriptions).where(
                    subscriptions.c.workspace_id == workspace_id,
                    subscriptions.c.profile_id.in_(list(dict.fromkeys(profile_ids))),
                )
            )
            for row in rows:
                found.setdefault(row.profile_id, []).append(_state(row))
        return found

    def address_states_many(
        self, workspace_id: str, channel: str, address_hashes: Sequence[str]
    ) -> dict[str, builtins.list[ConsentState]]:
        found: dict[str, builtins.list[ConsentState]] = {}
        if address_hashes:
            rows = self._conn.execute(
                select(address_subscriptions).where(
                    address_subscriptions.c.workspace_id == workspace_id,
                    address_subscriptions.c.channel == channel,
                    address_subscriptions.c.address_hash.in_(list(dict.fromkeys(address_hashes))),
                )
            )
            for row in rows:
                found.setdefault(row.address_hash, []).append(_state(row))
        return found

    def set_profile_state(
        self,
        workspace_id: str,
        profile_id: str,
        channel: str,
        group: str,
        status: Status,
        source: str,
        now: datetime,
    ) -> None:
        self._conn.execute(
            upsert(
                self._dialect,
                subscriptions,
                ["workspace_id", "profile_id", "channel", "group"],
                ["status", "source", "updated_at"],
            ),
            {
                "workspace_id": workspace_id,
                "profile_id": profile_id,
                "channel": channel,
                "group": group,
                "status": status.value,
                "source": source,
                "updated_at": now,
            },
        )
        self._history(workspace_id, profile_id, None, channel, group, status, source, now)

    def set_address_state(
        self,
        workspace_id: str,
        channel: str,
        address_hash: str,
        address: str | None,
        group: str,
        status: Status,
        source: str,
        now: datetime,
    ) -> None:
        self._conn.execute(
            upsert(
                self._dialect,
                address_subscriptions,
                ["workspace_id", "channel", "address_hash", "group"],
                ["address", "status", "source", "updated_at"],
            ),
            {
                "workspace_id": workspace_id,
                "channel": channel,
                "address_hash": address_hash,
                "group": group,
                "address": address,
                "status": status.value,
                "source": source,
                "updated_at": now,
            },
        )
        self._history(workspace_id, None, address_hash, channel, group, status, source, now)

    def _history(
        self,
        ws: str,
        profile_id: str | None,
        address_hash: str | None,
        channel: str,
        group: str,
        status: Status,
        source: str,
        now: datetime,
    ) -> None:
        self._conn.execute(
            consent_history.insert().values(
                id=new_id(),
                workspace_id=ws,
                profile_id=profile_id,
                address_hash=address_hash,
                channel=channel,
                group=group,
                status=status.value,
                source=source,
                created_at=now,
            )
        )

    def history(
        self, workspace_id: str, profile_id: str, page: Page
    ) -> builtins.list[ConsentChange]:
        query = (
            select(consent_history)
            .where(
                consent_history.c.workspace_id == workspace_id,
                consent_history.c.profile_id == profile_id,
            )
            .order_by(consent_history.c.id)
            .limit(page.limit)
        )
        if page.after:
            query = query.where(consent_history.c.id > page.after)
        return [
            ConsentChange(
                r.id,
                r.channel,
                r.group,
                Status(r.status),
                r.source,
                r.created_at,
                r.profile_id,
                r.address_hash,
            )
            for r in self._conn.execute(query)
        ]

    def forget_address(self, workspace_id: str, channel: str, address_hash: str) -> None:
        self._conn.execute(
            update(address_subscriptions)
            .where(
                address_subscriptions.c.workspace_id == workspace_id,
                address_subscriptions.c.channel == channel,
                address_subscriptions.c.address_hash == address_hash,
            )
            .values(address=None)
        )


@erasure_hook("subscriptions")
def _erase_subscriptions(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(subscriptions).where(
                subscriptions.c.workspace_id == workspace_id,
                subscriptions.c.profile_id == profile_id,
            )
        ).rowcount
    )


@erasure_hook("consent_history")
def _erase_consent_history(tx: Any, workspace_id: str, profile_id: str) -> int:
    return int(
        tx.conn.execute(
            delete(consent_history).where(
                consent_history.c.workspace_id == workspace_id,
                consent_history.c.profile_id == profile_id,
            )
        ).rowcount
    )
