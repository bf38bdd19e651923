"""Durations, windows and ISO 8601 instants (shared with journeys)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.clock import to_micros
from clarion.model.durations import (
    INSTANT_REGEX,
    INSTANT_SHAPES,
    BetweenWindow,
    Bounds,
    LastWindow,
    NextWindow,
    days_from_civil,
    parse_duration,
    parse_instant,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("2h", timedelta(hours=2)),
        ("15m", timedelta(minutes=15)),
        ("30s", timedelta(seconds=30)),
        ("1w", timedelta(weeks=1)),
        ("P30D", timedelta(days=30)),
        ("PT2H", timedelta(hours=2)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H30M", timedelta(days=1, hours=12, minutes=30)),
        ("PT0.5S", timedelta(milliseconds=500)),
    ],
)
def test_durations_are_written_short_or_in_iso_8601(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "30", "30 d", "30D", "P", "PT", "P1DT", "P1M", "P1Y", "0d", "PT0S", "36526d", "-1d"],
)
def test_other_strings_are_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


NOW = to_micros(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
DAY = 86_400_000_000


def test_a_last_window_includes_now_and_excludes_its_far_edge() -> None:
    bounds = LastWindow(last=30, unit="days").bounds(NOW)

    assert bounds == Bounds(NOW - 30 * DAY, False, NOW, True)
    assert bounds.contains(NOW) and bounds.contains(NOW - 30 * DAY + 1)
    assert not bounds.contains(NOW - 30 * DAY) and not bounds.contains(NOW + 1)
    assert LastWindow(last="30d").bounds(NOW) == bounds


def test_a_next_window_includes_now_and_excludes_its_far_edge() -> None:
    bounds = NextWindow(next=7, unit="days").bounds(NOW)

    assert bounds.contains(NOW) and bounds.contains(NOW + 7 * DAY - 1)
    assert not bounds.contains(NOW + 7 * DAY) and not bounds.contains(NOW - 1)


def test_a_between_window_is_half_open_and_ignores_now() -> None:
    window = BetweenWindow.model_validate({"from": "2026-01-01", "to": "2026-01-02T00:00:00Z"})
    start = parse_instant("2026-01-01")

    assert window.bounds(NOW) == Bounds(start, True, start + DAY, False)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05", datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05T09:00:00Z", datetime(2026, 1, 5, 9, tzinfo=UTC)),
        ("2026-01-05T09:00:00", datetime(2026, 1, 5, 9, tzinfo=UTC)),
        ("2026-01-05T09:00:00.5Z", datetime(2026, 1, 5, 9, 0, 0, 500_000, tzinfo=UTC)),
        ("2026-01-05T09:00:00.123456+02:00", datetime(2026, 1, 5, 7, 0, 0, 123_456, tzinfo=UTC)),
        ("2026-01-05T00:30:00-05:30", datetime(2026, 1, 5, 6, 0, tzinfo=UTC)),
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
        ("2000-02-29", datetime(2000, 2, 29, tzinfo=UTC)),
        ("0001-01-01", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_instants_of_every_accepted_shape(text: str, expected: datetime) -> None:
    assert parse_instant(text) == to_micros(expected)


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-29",
        "1900-02-29",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "0000-01-01",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:59:60Z",
        "2026-01-01T10:00:00+24:00",
        "2026-01-01T10:00:00.1234567Z",
        "2026-01-01T10:00Z",
        "2026-01-01 10:00:00Z",
        "2026-01-01t10:00:00Z",
        "\uff12\uff10\uff12\uff16-01-01",
        "2026-01-01\n",
        " 2026-01-01",
        "20260101",
    ],
)
def test_strings_outside_the_grammar_are_not_instants(text: str) -> None:
    assert parse_instant(text) is None


def test_the_calendar_arithmetic_agrees_with_python_dates() -> None:
    for year in (1, 4, 100, 400, 1900, 1970, 2000, 2024, 2026, 9999):
        for month, day in ((1, 1), (2, 28), (3, 1), (12, 31)):
            assert (
                days_from_civil(year, month, day)
                == (datetime(year, month, day, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days
            )


def test_there_are_29_instant_shapes() -> None:
    assert len(INSTANT_SHAPES) == 29 == len(set(INSTANT_SHAPES))


@given(st.text(alphabet="0123456789-T:.Z+ x\n", max_size=34))
def test_the_regular_expression_accepts_exactly_the_instant_shapes(text: str) -> None:
    pattern = INSTANT_REGEX.removeprefix("^").removesuffix("$")
    shape = text.translate(str.maketrans("0123456789", "9999999999"))

    assert (re.fullmatch(pattern, text) is not None) == (shape in INSTANT_SHAPES)
