"""`wait`: a duration, until an instant, until a date from data, or until a local time.

A date to wait for that is missing or not a date ends the wait at once (the
history says so): a profile with bad data moves on, it is never wedged.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from clarion.audiences.memory.values import lookup
from clarion.clock import to_micros
from clarion.journeys.conditions import local_now, zone_of
from clarion.journeys.io import Input, TimerFired
from clarion.journeys.state import Waiting
from clarion.journeys.step import Goto, Hold, Move, StepContext, handles, resumes
from clarion.model.durations import micros, parse_duration, parse_instant
from clarion.model.journeys import WaitNode, WaitUntilDate

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _offset(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    return timedelta(0) if body in ("", "0", "0s") else sign * parse_duration(body)


def _date_of(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value[:10])
    except ValueError:
        return None


def _anniversary(day: datetime, now_local: datetime) -> datetime:
    """The next (or today's) anniversary; 29 February is kept on 28 February."""
    for year in (now_local.year, now_local.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:
            candidate = day.replace(year=year, day=28)
        if candidate.date() >= now_local.date():
            return candidate
    return day.replace(year=now_local.year + 1)


def _until_date(ctx: StepContext, spec: WaitUntilDate) -> int | None:
    root, _, path = spec.path.partition(".")
    document = (
        {**ctx.world.profile.traits, "id": ctx.world.profile.id}
        if root == "profile"
        else ctx.instance.context
    )
    day = _date_of(lookup(document, tuple(path.split("."))))
    if day is None:
        return None
    zone = zone_of(ctx.world.profile, ctx.world.default_timezone)
    now_local = local_now(ctx.world.now_us, zone)
    if spec.yearly:
        day = _anniversary(day, now_local)
    moment = datetime.combine(day.date(), time.fromisoformat(spec.at) if spec.at else time())
    return to_micros(moment.replace(tzinfo=zone) + _offset(spec.offset))


def _until_time(ctx: StepContext, node: WaitNode) -> int:
    zone = zone_of(ctx.world.profile, ctx.world.default_timezone)
    now_local = local_now(ctx.world.now_us, zone)
    target = time.fromisoformat(str(node.until_time))
    allowed = set(node.weekdays or _WEEKDAYS)
    for days in range(8):
        day = now_local.date() + timedelta(days=days)
        moment = datetime.combine(day, target).replace(tzinfo=zone)
        if _WEEKDAYS[day.weekday()] in allowed and to_micros(moment) > ctx.world.now_us:
            return to_micros(moment)
    raise AssertionError("a weekday list is never empty")


def due_of(ctx: StepContext, node: WaitNode) -> int | None:
    """When the wait ends (µs), or None when there is no date to wait for."""
    if node.duration is not None:
        return ctx.world.now_us + micros(node.duration)
    if node.until is not None:
        return parse_instant(node.until)
    if node.until_date is not None:
        return _until_date(ctx, node.until_date)
    return _until_time(ctx, node)


@handles("wait")
def wait(ctx: StepContext, node: WaitNode) -> Move:
    due = due_of(ctx, node)
    if due is None:
        return Goto(node.next, "no date to wait for")
    if due <= ctx.world.now_us:
        return Goto(node.next, "the moment has passed")
    key = f"{node.id}:{ctx.visit(node.id)}"
    return Hold(Waiting("timer", node.id, key, due_us=due))


@resumes("wait")
def wait_over(ctx: StepContext, node: WaitNode, given: Input) -> Move | None:
    if isinstance(given, TimerFired):
        return Goto(node.next, "waited")
    return None
