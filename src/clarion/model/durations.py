"""How definitions write time: durations, windows and ISO 8601 instants.

Shared by audiences (event windows, date operators) and journeys (waits).

**Durations** are written `30s`, `15m`, `2h`, `30d`, `1w`, as ISO 8601 durations
without years or months (`P30D`, `PT2H`, `P1W`, `P1DT12H`, `PT0.5S`: years and
months have no fixed length), or as `{N, unit}` inside a window. A duration is
positive and at most 100 years, so that `now ± duration` stays far inside a
64-bit count of microseconds.

**Windows** are one type everywhere:
- `{last: N, unit}` covers the instants `now - N < t <= now`: an event 30 days
  old leaves `{last: 30, unit: days}` exactly 30 days after it happened;
- `{next: N, unit}` covers `now <= t < now + N`;
- `{from: A, to: B}` covers `A <= t < B` (two instants).
`N` may itself be a duration string (`{last: 30d}`), and where a window is
expected a bare duration string is accepted: it means `last` (or `next` where the
field looks ahead, e.g. `within_next`).

**Instants** are ISO 8601 strings of exactly these shapes (`9` is an ASCII digit):
`9999-99-99` (a date: midnight UTC), or `9999-99-99T99:99:99` followed by an
optional fraction of 1 to 6 digits (`.9` ... `.999999`) and an optional zone
(`Z`, `+99:99`, `-99:99`; none means UTC). Year 0001 to 9999, months and days of
the real calendar, hours 00-23, minutes and seconds 00-59 (no leap second),
zone offsets up to 23:59. Anything else is not an instant. The audience SQL
compiler recognises exactly the same strings (`INSTANT_SHAPES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

Unit = Literal["seconds", "minutes", "hours", "days", "weeks"]

UNIT_SECONDS: dict[str, int] = {
    "seconds": 1,
    "minutes": 60,
    "hours": 3600,
    "days": 86_400,
    "weeks": 604_800,
}
MAX_DURATION = timedelta(days=36_525)
"""The longest duration a definition may write (100 years)."""

_SHORT = re.compile(r"([0-9]{1,9})(s|m|h|d|w)")
_SHORT_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ISO = re.compile(
    r"P(?:([0-9]{1,9})W)?(?:([0-9]{1,9})D)?"
    r"(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9}(?:\.[0-9]{1,6})?)S)?)?"
)


def _checked(duration: timedelta, text: str) -> timedelta:
    if duration <= timedelta(0):
        raise ValueError(f"duration {text!r} must be positive")
    if duration > MAX_DURATION:
        raise ValueError(f"duration {text!r} is longer than 100 years")
    return duration


def parse_duration(text: str) -> timedelta:
    """A duration string (`30d`, `2h`, `15m`, `30s`, `1w`, `P30D`, `PT2H`) as a timedelta."""
    short = _SHORT.fullmatch(text)
    if short:
        amount = int(short.group(1)) * UNIT_SECONDS[_SHORT_UNITS[short.group(2)]]
        return _checked(timedelta(seconds=amount), text)
    iso = _ISO.fullmatch(text)
    if iso and text not in ("P", "PT") and not text.endswith("T"):
        weeks, days, hours, minutes, seconds = iso.groups()
        duration = timedelta(
            weeks=int(weeks or 0),
            days=int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=float(seconds or 0),
        )
        return _checked(duration, text)
    raise ValueError(
        f"{text!r} is not a duration: write e.g. 30d, 2h, 15m, 30s, 1w or ISO 8601 P30D, PT2H"
        " (no years or months)"
    )


def duration_of(amount: int | str, unit: Unit | None) -> timedelta:
    """`{N, unit}` or a duration string (then without a unit) as a timedelta."""
    if isinstance(amount, str):
        if unit is not None:
            raise ValueError("give either a duration string or a number with a unit, not both")
        return parse_duration(amount)
    if unit is None:
        raise ValueError("a number of units needs a `unit` (minutes, hours, days, weeks)")
    return _checked(timedelta(seconds=amount * UNIT_SECONDS[unit]), f"{amount} {unit}")


def micros(duration: timedelta) -> int:
    """A timedelta as whole microseconds."""
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds


@dataclass(frozen=True, slots=True)
class Bounds:
    """An interval of instants (µs); a missing end is unbounded."""

    low: int | None
    low_inclusive: bool
    high: int | None
    high_inclusive: bool

    def contains(self, instant: int) -> bool:
        """True when `instant` lies inside the interval."""
        if self.low is not None and (
            instant < self.low or (instant == self.low and not self.low_inclusive)
        ):
            return False
        return self.high is None or (
            instant < self.high or (instant == self.high and self.high_inclusive)
        )


class _WindowBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LastWindow(_WindowBase):
    """`{last: N, unit}`: the instants `now - N < t <= now`."""

    last: Annotated[int, Field(ge=1)] | str
    unit: Unit | None = None

    @model_validator(mode="after")
    def _check(self) -> LastWindow:
        duration_of(self.last, self.unit)
        return self

    @property
    def duration(self) -> timedelta:
        """The window's length."""
        return duration_of(self.last, self.unit)

    def bounds(self, now: int) -> Bounds:
        """The window's instants at `now` (µs)."""
        return Bounds(now - micros(self.duration), False, now, True)


class NextWindow(_WindowBase):
    """`{next: N, unit}`: the instants `now <= t < now + N`."""

    next: Annotated[int, Field(ge=1)] | str
    unit: Unit | None = None

    @model_validator(mode="after")
    def _check(self) -> NextWindow:
        duration_of(self.next, self.unit)
        return self

    @property
    def duration(self) -> timedelta:
        """The window's length."""
        return duration_of(self.next, self.unit)

    def bounds(self, now: int) -> Bounds:
        """The window's instants at `now` (µs)."""
        return Bounds(now, True, now + micros(self.duration), False)


class BetweenWindow(_WindowBase):
    """`{from: A, to: B}`: the instants `A <= t < B` (ISO 8601 instants)."""

    from_: str = Field(alias="from")
    to: str

    @model_validator(mode="after")
    def _check(self) -> BetweenWindow:
        start, end = parse_instant(self.from_), parse_instant(self.to)
        if start is None or end is None:
            raise ValueError("`from` and `to` are ISO 8601 dates or date-times")
        if start >= end:
            raise ValueError("`from` must be earlier than `to`")
        return self

    def bounds(self, now: int) -> Bounds:
        """The window's instants (they do not depend on `now`)."""
        start, end = parse_instant(self.from_), parse_instant(self.to)
        assert start is not None and end is not None  # checked on validation
        return Bounds(start, True, end, False)


def _bare(direction: str) -> Any:
    def coerce(value: Any) -> Any:
        return {direction: value} if isinstance(value, str) else value

    return coerce


def window_kind(value: Any) -> str | None:
    """The tag of a window: `window:last`, `window:next`, `window:between` (None: not one)."""
    if isinstance(value, LastWindow | NextWindow | BetweenWindow):
        value = value.model_dump(by_alias=True)
    if isinstance(value, dict):
        for key, tag in (
            ("last", "window:last"),
            ("next", "window:next"),
            ("from", "window:between"),
        ):
            if key in value:
                return tag
    return None


AnyWindow = LastWindow | NextWindow | BetweenWindow
Window = Annotated[
    Annotated[LastWindow, Tag("window:last")]
    | Annotated[NextWindow, Tag("window:next")]
    | Annotated[BetweenWindow, Tag("window:between")],
    Discriminator(
        window_kind,
        custom_error_type="window",
        custom_error_message="a window is {last: N, unit}, {next: N, unit}, {from, to}"
        " or a duration string",
    ),
    BeforeValidator(_bare("last"), json_schema_input_type=str | AnyWindow),
]
"""Any window; a bare duration string means `{last: ...}`."""
PastWindow = Annotated[
    LastWindow, BeforeValidator(_bare("last"), json_schema_input_type=str | LastWindow)
]
"""A `{last: ...}` window; a bare duration string is accepted."""
FutureWindow = Annotated[
    NextWindow, BeforeValidator(_bare("next"), json_schema_input_type=str | NextWindow)
]
"""A `{next: ...}` window; a bare duration string is accepted."""


# --- instants ---------------------------------------------------------------

_DATE_SHAPE = "9999-99-99"
_FRACTIONS = ("", *("." + "9" * n for n in range(1, 7)))
_ZONES = ("", "Z", "+99:99", "-99:99")
INSTANT_SHAPES: tuple[str, ...] = (
    _DATE_SHAPE,
    *(f"{_DATE_SHAPE}T99:99:99{fraction}{zone}" for fraction in _FRACTIONS for zone in _ZONES),
)
"""Every shape of an instant string, `9` standing for one ASCII digit."""

INSTANT_REGEX = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
"""The same shapes as one regular expression (POSIX and RE2 alike), for SQL engines."""

_TO_SHAPE = str.maketrans("0123456789", "9999999999")


def is_leap(year: int) -> bool:
    """Gregorian leap years."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """The number of days of a month (1-12)."""
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (year >= 1).

    The same integer arithmetic as the SQL compiler's (H. Hinnant's algorithm).
    """
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


@dataclass(frozen=True, slots=True)
class InstantParts:
    """The fields of an instant string, as written."""

    year: int
    month: int
    day: int
    micros: int
    """The instant itself: microseconds since the epoch, UTC."""


def parse_instant_parts(text: str) -> InstantParts | None:
    """The fields of an ISO 8601 instant string, or None if it is not one (see module doc)."""
    shape = text.translate(_TO_SHAPE)
    if shape not in INSTANT_SHAPES:
        return None
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return None
    seconds = days_from_civil(year, month, day) * 86_400
    fraction = 0
    if len(text) > 10:
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
        if hour > 23 or minute > 59 or second > 59:
            return None
        seconds += hour * 3600 + minute * 60 + second
        zone = 1 if text.endswith("Z") else 6 if shape[-6] in "+-" else 0
        if zone == 6:
            zone_hours, zone_minutes = int(text[-5:-3]), int(text[-2:])
            if zone_hours > 23 or zone_minutes > 59:
                return None
            sign = 1 if text[-6] == "+" else -1
            seconds -= sign * (zone_hours * 3600 + zone_minutes * 60)
        digits = text[20 : len(text) - zone] if text[19:20] == "." else ""
        fraction = int(digits) * 10 ** (6 - len(digits)) if digits else 0
    return InstantParts(year, month, day, seconds * 1_000_000 + fraction)


def parse_instant(text: str) -> int | None:
    """An ISO 8601 instant string as microseconds since the epoch, or None."""
    parts = parse_instant_parts(text)
    return parts.micros if parts else None
