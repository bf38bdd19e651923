"""When a campaign sends: once, at a time, or on a recurrence, in a time zone.

A schedule has one of:
- `at: "2026-12-07T09:00:00"`: once, at that wall-clock time in `timezone`
  (an explicit offset or `Z` makes it an instant instead);
- `every: daily | weekly | monthly` with `time: "09:00"`, and `days: [mon, thu]`
  (weekly) or `day: 1` (monthly; `-1` is the last day);
- `cron: "0 9 * * 1"` (croniter);
- `rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"` (RFC 5545, python-dateutil);
plus `timezone` (IANA, default UTC), `start` and `end` (wall-clock times or dates
in `timezone`), `local_time: true` (send at that wall-clock time in each
recipient's own zone) and `missed: next_day | skip` (a local-time recipient whose
hour has already passed when the run starts: the next day, or not at all).

Recurrences expand in wall-clock time, then each wall time is localised with
zoneinfo: a time that does not exist (spring forward) moves forward by the gap,
an ambiguous one (fall back) takes the first occurrence (`fold=0`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from dateutil.rrule import rrulestr
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_RRULE_DAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA"}
_RRULE_DAYS["sun"] = "SU"
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")

EARLIEST_OFFSET = timedelta(hours=14)
"""The furthest-ahead UTC offset of any zone (Pacific/Kiritimati): a local-time send
starts when that zone reaches the wall-clock time."""

MAX_STEPS = 5000
"""How many wall-clock times a search looks at before giving up (a rule that never
fires again)."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone; raises ValueError for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `tz` (gaps move forward, folds take the first)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def wall_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time of an instant in `tz`."""
    return moment.astimezone(tz).replace(tzinfo=None)


def _parse_wall(text: str, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` from an ISO date, date-time or instant."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        return wall_time(parsed, tz)
    return parsed


class Schedule(BaseModel):
    """A campaign's schedule (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str | None = None
    every: Literal["daily", "weekly", "monthly"] | None = None
    time: str | None = None
    days: list[Weekday] | None = None
    day: int | None = Field(default=None, ge=-1, le=31)
    cron: str | None = None
    rrule: str | None = None
    timezone: str = "UTC"
    start: str | None = None
    end: str | None = None
    local_time: bool = False
    missed: Literal["next_day", "skip"] = "next_day"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("at", "start", "end")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO 8601 date or date-time") from None
        return value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None and not _TIME.match(value):
            raise ValueError("time is HH:MM, e.g. 09:00")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression")
        return value

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                rrulestr(value, dtstart=datetime(2026, 1, 1))  # noqa: DTZ001 - wall clock
            except (ValueError, TypeError) as exc:
                raise ValueError(f"not an RRULE: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        given = [k for k in ("at", "every", "cron", "rrule") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"a schedule has one of at, every, cron, rrule; got {given}")
        if self.every is not None and self.time is None:
            raise ValueError("every needs a time, e.g. time: '09:00'")
        if self.every == "weekly" and not self.days:
            raise ValueError("every: weekly needs days, e.g. days: [mon]")
        if self.every == "monthly" and self.day is None:
            raise ValueError("every: monthly needs a day of the month (1-31, or -1 for the last)")
        if self.every is None and (self.time or self.days or self.day is not None):
            raise ValueError("time, days and day go with every")
        tz = zone(self.timezone)
        if self.start and self.end and _parse_wall(self.end, tz) <= _parse_wall(self.start, tz):
            raise ValueError("end is after start")
        return self

    @property
    def window_only(self) -> bool:
        """No send time: only `start`/`end` (an API campaign's window)."""
        return not (self.at or self.every or self.cron or self.rrule)

    @property
    def recurring(self) -> bool:
        return bool(self.every or self.cron or self.rrule)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """`start` and `end` as naive wall-clock times in the campaign's zone."""
        tz = self.tz
        start = _parse_wall(self.start, tz) if self.start else None
        end = _parse_wall(self.end, tz) if self.end else None
        if end is not None and self.end is not None and _is_date(self.end):
            end += timedelta(days=1)  # an end date includes that whole day
        return start, end

    def within(self, moment: datetime) -> bool:
        """Whether `moment` (an instant) is inside `start` and `end`."""
        start, end = self.bounds()
        wall = wall_time(moment, self.tz)
        return (start is None or wall >= start) and (end is None or wall < end)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One send of a schedule: its wall-clock time and the instant its run starts."""

    wall: datetime
    """Naive wall-clock time (in the campaign's zone, or in each recipient's for local time)."""
    fire_at: datetime
    """When the run starts (UTC): the send time, or for local time the moment the
    earliest zone (UTC+14) reaches the wall-clock time."""
    local_time: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "wall": self.wall.isoformat(),
            "fire_at": self.fire_at.isoformat(),
            "local_time": self.local_time,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Occurrence:
        return cls(
            datetime.fromisoformat(data["wall"]),
            datetime.fromisoformat(data["fire_at"]),
            bool(data.get("local_time")),
        )


def _rule_text(schedule: Schedule) -> str | None:
    if schedule.rrule is not None:
        return schedule.rrule
    if schedule.every is None or schedule.time is None:
        return None
    hour, minute = schedule.time.split(":")
    base = f"BYHOUR={int(hour)};BYMINUTE={int(minute)};BYSECOND=0"
    if schedule.every == "daily":
        return f"FREQ=DAILY;{base}"
    if schedule.every == "weekly":
        days = ",".join(_RRULE_DAYS[d] for d in schedule.days or [])
        return f"FREQ=WEEKLY;BYDAY={days};{base}"
    return f"FREQ=MONTHLY;BYMONTHDAY={schedule.day};{base}"


def wall_times(schedule: Schedule, begin: datetime, anchor: datetime) -> Iterator[datetime]:
    """The schedule's naive wall-clock times from `begin` on (inclusive), in order.

    `anchor` (a naive wall-clock time) is the rule's DTSTART when the schedule
    has no `start`: it fixes the fields a rule leaves open (seconds, the hour of
    an RRULE without BYHOUR).
    """
    start, end = schedule.bounds()
    begin = max(begin, start) if start else begin
    if schedule.at is not None:
        at = _parse_wall(schedule.at, schedule.tz)
        if at >= begin:
            yield at
        return
    if schedule.cron is not None:
        cursor = croniter(schedule.cron, begin - timedelta(seconds=1))
        times: Iterator[datetime] = (cursor.get_next(datetime) for _ in range(MAX_STEPS))
    else:
        text = _rule_text(schedule)
        assert text is not None
        dtstart = (start or anchor).replace(second=0, microsecond=0)
        rule: Any = rrulestr(text, dtstart=dtstart)
        times = rule.xafter(begin, count=MAX_STEPS, inc=True)
    for wall in times:
        if end is not None and wall >= end:
            return
        yield wall


def occurrence_of(schedule: Schedule | None, wall: datetime) -> Occurrence:
    """The occurrence for a wall-clock time of `schedule` (its zone, or local time)."""
    if schedule is not None and schedule.local_time:
        return Occurrence(wall, (wall - EARLIEST_OFFSET).replace(tzinfo=UTC), True)
    tz = schedule.tz if schedule else ZoneInfo("UTC")
    return Occurrence(wall, localize(wall, tz), False)


def next_occurrence(
    schedule: Schedule, after: datetime, anchor: datetime, *, inclusive: bool = False
) -> Occurrence | None:
    """The first occurrence whose run starts after `after` (or at it, if `inclusive`).

    `anchor` is an instant (the activation), see `wall_times`.
    """
    tz = schedule.tz
    # Local-time runs start up to 14 hours before the campaign zone's wall time,
    # and a zone's offset is at most 26 hours from another's: look back a day.
    begin = wall_time(after, tz) - timedelta(days=2)
    for wall in wall_times(schedule, begin, wall_time(anchor, tz)):
        found = occurrence_of(schedule, wall)
        if found.fire_at > after or (inclusive and found.fire_at == after):
            return found
    return None
