"""Time as an injected dependency.

Engine code never reads the wall clock directly: it takes a `Clock`, so tests can
run a 30-day journey in milliseconds with `clarion.testing.FakeClock`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)  # noqa: TID251 - the one place the wall clock is read


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch, the unit event times are stored in."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime for a count of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
