"""Time arithmetic both compilers share: relative instants, anniversaries, change instants.

All instants are microseconds since the epoch (UTC). A *change instant* is the
first instant at which a time-dependent test may flip for a fixed value: the
evaluator's `next_change` takes the earliest one after `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from clarion.clock import to_micros
from clarion.model.durations import (
    AnyWindow,
    BetweenWindow,
    LastWindow,
    NextWindow,
    days_from_civil,
    is_leap,
    micros,
    parse_instant,
)

DAY = 86_400_000_000
"""One day in microseconds."""


def relative_instant(value: str | LastWindow | NextWindow, now: int) -> int:
    """The instant a `before`/`after` value stands for: `now - N`, `now + N` or an ISO instant."""
    if isinstance(value, LastWindow):
        return now - micros(value.duration)
    if isinstance(value, NextWindow):
        return now + micros(value.duration)
    instant = parse_instant(value)
    assert instant is not None  # validated with the definition
    return instant


def comparison_changes(op: str, value: str | LastWindow | NextWindow, t: int) -> list[int]:
    """When `t <op> X` may flip, X being `value` relative to the moving `now`."""
    if isinstance(value, str):
        return []
    d = micros(value.duration)
    shift = -d if isinstance(value, LastWindow) else d  # X = now + shift
    # t < now + shift  <=>  now > t - shift ; t > now + shift  <=>  now < t - shift
    return [t - shift + 1] if op == "before" else [t - shift]


def window_changes(window: AnyWindow, t: int) -> list[int]:
    """When an instant `t` enters or leaves a window that moves with `now`."""
    if isinstance(window, BetweenWindow):
        return []
    d = micros(window.duration)
    if isinstance(window, LastWindow):  # t <= now < t + d
        return [t, t + d]
    return [t - d + 1, t + 1]  # NextWindow: t - d < now <= t


@dataclass(frozen=True, slots=True)
class Today:
    """The UTC calendar day of `now`, as anniversaries need it."""

    days: int
    """Days since 1970-01-01."""
    year: int

    @classmethod
    def of(cls, now: int) -> Today:
        """The UTC day containing `now`."""
        days = now // DAY
        return cls(days, (date(1970, 1, 1) + timedelta(days=days)).year)

    @property
    def next_midnight(self) -> int:
        """The instant the next UTC day starts."""
        return (self.days + 1) * DAY


def anniversary_day(year: int, month: int, day: int) -> int:
    """The day (since the epoch) a month/day recurs in `year`; 29 Feb falls on 28 Feb."""
    if month == 2 and day == 29 and not is_leap(year):
        day = 28
    return days_from_civil(year, month, day)


def days_to_anniversary(month: int, day: int, today: Today) -> int:
    """Days from today to the next recurrence of month/day (0 when it is today)."""
    this_year = anniversary_day(today.year, month, day)
    if this_year >= today.days:
        return this_year - today.days
    return anniversary_day(today.year + 1, month, day) - today.days


def whole_days(window: NextWindow) -> int:
    """How many whole days an anniversary window reaches beyond today."""
    return micros(window.duration) // DAY


def as_micros(now: datetime | int) -> int:
    """`now` as microseconds since the epoch (an aware datetime or µs already)."""
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("`now` must be timezone-aware")
        return to_micros(now)
    return now
