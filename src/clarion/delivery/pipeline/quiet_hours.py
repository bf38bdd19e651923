"""Quiet hours: no messages in a window of the recipient's local time.

Workspace settings, e.g.
`{"quiet_hours": [{"start": "21:00", "end": "08:00", "channels": ["sms", "push"],
"action": "defer"}], "timezone": "Europe/Stockholm"}`. A rule applies to
marketing messages unless it lists `categories`; `action` is `defer` (to the end
of the window) or `discard`. The recipient's time zone is the profile's, else
the workspace's, else UTC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clarion.delivery.pipeline.candidate import BaseStage, Candidate, Decision, StageContext


def _zone(name: Any) -> ZoneInfo | None:
    if not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def window_end(now: datetime, start: time, end: time, zone: ZoneInfo) -> datetime | None:
    """If `now` falls in the daily local window [start, end), the instant it ends."""
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date()
    if start > end and clock >= start:  # the window runs past midnight
        day = day + timedelta(days=1)
    wall = datetime.combine(day, end)
    # A wall time skipped by a DST change resolves forward; fold=0 picks the first.
    return wall.replace(tzinfo=zone).astimezone(now.tzinfo)


def _time(text: Any) -> time | None:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        return None


class QuietHoursStage(BaseStage):
    """Defers or discards messages that fall in a quiet window."""

    name = "quiet_hours"

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        rules = ctx.settings.get("quiet_hours") or []
        intent = candidate.item.intent
        profile_zone = candidate.profile.timezone if candidate.profile else None
        zone = _zone(profile_zone) or _zone(ctx.settings.get("timezone")) or ZoneInfo("UTC")
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict):
                continue
            channels = rule.get("channels")
            if channels and intent.channel not in channels:
                continue
            if intent.category.value not in (rule.get("categories") or ["marketing"]):
                continue
            start, end = _time(rule.get("start")), _time(rule.get("end"))
            if start is None or end is None:
                continue
            until = window_end(ctx.now, start, end, _zone(rule.get("timezone")) or zone)
            if until is None:
                continue
            if rule.get("action", "defer") == "discard":
                return Decision("skip", "quiet_hours")
            return Decision("defer", "quiet_hours", until)
        return None
