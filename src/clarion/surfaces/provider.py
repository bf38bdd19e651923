"""The provider of inbound channels: a message makes content eligible, nothing is pushed.

In-app messages land on the `in_app` surface, content cards on `cards`, web and
code-based experiences on the surface their template names. Each item keeps
the rendered fields, its priority, pin, expiry and display cap; apps fetch them
with `GET /v1/surfaces/{surface}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.clock import Clock, to_micros
from clarion.model.durations import micros, parse_duration, parse_instant
from clarion.storage.base import Database
from clarion.surfaces import store

SURFACE_OF_CHANNEL = {"in_app": "in_app", "content_card": "cards"}
INBOUND_CHANNELS = ("in_app", "content_card", "web", "code")
META_FIELDS = frozenset(
    {"surface", "priority", "pinned", "expires", "subscription_group", "category", "description"}
)
DEFAULT_MAX_IMPRESSIONS = {"in_app": 1}
"""An in-app message is shown once unless the channel settings say otherwise."""


def surface_of(channel: str, fields: Mapping[str, Any]) -> str:
    named = fields.get("surface")
    if channel in SURFACE_OF_CHANNEL:
        return SURFACE_OF_CHANNEL[channel]
    return str(named) if named else channel


def expiry(value: Any, now_us: int) -> int | None:
    """`expires`: a duration from now (`7d`, `PT12H`) or an ISO 8601 instant."""
    if value in (None, ""):
        return None
    text = str(value)
    instant = parse_instant(text)
    if instant is not None:
        return instant
    try:
        return now_us + micros(parse_duration(text))
    except ValueError:
        return None


def _int(value: Any, default: int | None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class SurfaceProvider:
    """Stores eligible content per profile and surface (batched, one transaction)."""

    name = "surfaces"
    channel = "*"

    def __init__(self, db: Database, clock: Clock, settings: Mapping[str, Any]) -> None:
        self._db, self._clock, self._settings = db, clock, settings

    async def send(self, message: RenderedMessage) -> SendResult:
        return (await self.send_many([message]))[0]

    async def send_many(self, messages: Sequence[RenderedMessage]) -> list[SendResult]:
        await asyncio.to_thread(self._store, messages)
        return [SendResult(SendStatus.SENT, provider_message_id=m.message_id) for m in messages]

    def item(self, message: RenderedMessage, now_us: int) -> dict[str, Any]:
        fields = message.fields
        caps = self._settings.get("max_impressions")
        default_cap = (
            caps.get(message.channel) if isinstance(caps, dict) else None
        ) or DEFAULT_MAX_IMPRESSIONS.get(message.channel)
        return {
            "id": message.message_id,
            "workspace_id": message.workspace_id,
            "profile_id": message.profile_id or message.to,
            "channel": message.channel,
            "surface": surface_of(message.channel, fields),
            "priority": _int(fields.get("priority"), 0),
            "pinned": bool(fields.get("pinned")),
            "content": {k: v for k, v in fields.items() if k not in META_FIELDS},
            "created_at": now_us,
            "expires_at": expiry(fields.get("expires"), now_us),
            "max_impressions": default_cap,
            "impressions": 0,
        }

    def _store(self, messages: Sequence[RenderedMessage]) -> None:
        now_us = to_micros(self._clock.now())
        rows = [self.item(m, now_us) for m in messages]
        with self._db.write() as tx:
            store.put_items(tx, rows)

    async def close(self) -> None:
        return None
