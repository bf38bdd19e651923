"""Eligible content of a surface, and what people do with it (impressions, clicks, dismissals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.clock import from_micros, to_micros
from clarion.delivery.outcomes import outcome_properties
from clarion.ids import new_id
from clarion.model.errors import NotFound
from clarion.model.events import NewEvent
from clarion.model.outcomes import Outcome
from clarion.storage.base import Tx
from clarion.surfaces import store
from clarion.surfaces.access import Viewer
from clarion.surfaces.store import RawReads

ACTION_EVENTS = {
    "read": Outcome.OPENED.event_name,
    "click": Outcome.CLICKED.event_name,
    "dismiss": "message.dismissed",
}


def _iso(us: int | None) -> str | None:
    return from_micros(us).isoformat().replace("+00:00", "Z") if us is not None else None


def render_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channel": row["channel"],
        "surface": row["surface"],
        "priority": row["priority"],
        "pinned": row["pinned"],
        "content": row["content"],
        "created_at": _iso(row["created_at"]),
        "expires_at": _iso(row["expires_at"]),
        "read": row["read_at"] is not None,
        "clicked": row["clicked_at"] is not None,
        "impressions": row["impressions"],
    }


def eligible(
    tx: Tx | RawReads,
    workspace_id: str,
    viewer: Viewer,
    surface: str | None,
    now: datetime,
    settings: dict[str, Any],
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Unexpired, undismissed, under-cap items; pinned first, then by priority, newest first.

    Frequency rule: `surfaces.<channel>.min_interval_seconds` in the workspace
    settings holds back a channel's items for that long after its last impression.
    `tx` may be the store's `RawReads` (the hot path of `GET /v1/surfaces`).
    """
    if viewer.profile_id is None:
        return []
    now_us = to_micros(now)
    rows = store.live_items(tx, workspace_id, viewer.profile_id, surface, now_us)
    for channel in {r["channel"] for r in rows}:
        rule = settings.get(channel)
        interval = rule.get("min_interval_seconds") if isinstance(rule, dict) else None
        if isinstance(interval, int | float) and interval > 0:
            seen = store.last_seen(tx, workspace_id, viewer.profile_id, channel)
            if seen is not None and now_us - seen < interval * 1_000_000:
                rows = [r for r in rows if r["channel"] != channel]
    return [render_item(r) for r in rows[:limit]]


def act(
    tx: Tx, workspace_id: str, item_id: str, action: str, viewer: Viewer | None, now: datetime
) -> dict[str, Any]:
    """Record an impression (`read`), a click or a dismissal, with its outcome event."""
    row = store.get_item(tx, workspace_id, item_id)
    if row is not None and viewer is not None:
        family = (
            store.profile_family(tx, workspace_id, viewer.profile_id) if viewer.profile_id else []
        )
        if row["profile_id"] not in family:
            row = None
    if row is None:
        raise NotFound(f"no card {item_id!r}", field="id")
    store.mark_item(tx, workspace_id, item_id, action, to_micros(now))
    queued = tx.outbox.get(workspace_id, item_id)
    properties: dict[str, Any] = (
        outcome_properties(queued.intent, None)
        if queued is not None
        else {"message_id": item_id, "channel": row["channel"]}
    )
    properties.update(surface=row["surface"], action=action)
    once = action == "dismiss" or (action == "click" and row["clicked_at"] is None)
    event = NewEvent(
        type="track",
        message_id=f"{item_id}:{action}" if once else f"{item_id}:{action}:{new_id()}",
        event=ACTION_EVENTS[action],
        profile_id=row["profile_id"],
        properties=properties,
        timestamp=now,
        origin="internal",
    )
    tx.events.append(workspace_id, [event], now)
    updated = store.get_item(tx, workspace_id, item_id)
    assert updated is not None
    return render_item(updated)
