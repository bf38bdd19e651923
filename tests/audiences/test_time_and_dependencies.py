"""When time alone changes membership (for durable re-evaluation), and what audiences read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clarion.audiences import (
    EventView,
    ProfileView,
    StaticResolver,
    compile_definition,
    dependencies,
    evaluate,
    next_change,
)
from clarion.clock import from_micros, to_micros
from clarion.model.audience import parse_audience, parse_definition
from clarion.testing import FakeClock

DAY = 86_400_000_000


def test_a_window_expires_exactly_when_next_change_says() -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    bought = to_micros(clock.now()) - 10 * DAY
    profile = ProfileView("p", events=[EventView("track", "Order Completed", bought, {})])
    audience = compile_definition(
        parse_definition({"performed": {"event": "Order Completed", "within": "30d"}})
    )

    change = audience.next_change(profile, clock.now())
    assert change == bought + 30 * DAY
    clock.set(from_micros(change - 1))
    assert audience.holds(profile, clock.now())
    clock.set(from_micros(change))
    assert not audience.holds(profile, clock.now())
    assert audience.next_change(profile, clock.now()) is None


def test_an_event_from_the_future_enters_a_window_when_it_happens() -> None:
    now = to_micros(datetime(2026, 1, 5, tzinfo=UTC))
    profile = ProfileView("p", events=[EventView("track", "x", now + DAY, {})])
    definition = parse_definition({"performed": {"event": "x", "within": "7d"}})

    assert next_change(definition, profile, now) == now + DAY
    assert evaluate(definition, profile, now + DAY)


def test_relative_dates_change_when_they_cross_now() -> None:
    now = to_micros(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    profile = ProfileView("p", {"signed_up": "2026-01-01T09:00:00Z", "birthday": "1990-03-01"})
    signed_up = now - 4 * DAY

    assert (
        next_change(
            parse_definition(
                {
                    "trait": {
                        "path": "signed_up",
                        "op": "before",
                        "value": {"last": 7, "unit": "days"},
                    }
                }
            ),
            profile,
            now,
        )
        == signed_up + 7 * DAY + 1
    )
    assert (
        next_change(
            parse_definition({"trait": {"path": "signed_up", "op": "within_last", "value": "7d"}}),
            profile,
            now,
        )
        == signed_up + 7 * DAY
    )
    next_midnight = to_micros(datetime(2026, 1, 6, tzinfo=UTC))
    assert (
        next_change(
            parse_definition(
                {"trait": {"path": "birthday", "op": "anniversary_within_next", "value": "7d"}}
            ),
            profile,
            now,
        )
        == next_midnight
    )
    assert (
        next_change(
            parse_definition(
                {"trait": {"path": "signed_up", "op": "before", "value": "2026-02-01"}}
            ),
            profile,
            now,
        )
        is None
    )


def test_the_earliest_change_of_any_leaf_wins_whatever_the_boolean_structure() -> None:
    now = to_micros(datetime(2026, 1, 5, tzinfo=UTC))
    profile = ProfileView(
        "p",
        {"d": "2026-01-04"},
        events=[
            EventView("track", "a", now - 2 * DAY, {}),
            EventView("track", "b", now - 5 * DAY, {}),
        ],
    )
    definition = parse_definition(
        {
            "any": [
                {"not": {"performed": {"event": "a", "within": "3d"}}},
                {
                    "all": [
                        {"performed": {"event": "b", "within": "6d"}},
                        {"trait": {"path": "d", "op": "within_last", "value": "30d"}},
                    ]
                },
            ]
        }
    )

    assert next_change(definition, profile, now) == now + DAY  # a leaves its 3-day window


def test_leap_day_birthdays_fall_on_28_february_in_other_years() -> None:
    profile = ProfileView("p", {"birthday": "1992-02-29"})
    definition = parse_definition(
        {"trait": {"path": "birthday", "op": "anniversary_within_next", "value": "1d"}}
    )

    assert evaluate(definition, profile, datetime(2027, 2, 27, 12, tzinfo=UTC))
    assert evaluate(definition, profile, datetime(2027, 2, 28, 23, 59, tzinfo=UTC))
    assert not evaluate(definition, profile, datetime(2027, 3, 1, tzinfo=UTC))
    assert not evaluate(definition, profile, datetime(2028, 2, 27, tzinfo=UTC))
    assert evaluate(definition, profile, datetime(2028, 2, 28, tzinfo=UTC))


def test_dependencies_list_events_traits_and_inlined_audiences() -> None:
    resolver = StaticResolver(
        {
            "vip": parse_audience(
                {
                    "name": "vip",
                    "definition": {"trait": {"path": "tier", "op": "eq", "value": "gold"}},
                }
            )
        }
    )
    definition = parse_definition(
        {
            "all": [
                {"trait": {"path": "address.city", "op": "eq", "value": "Malmö"}},
                {"performed": {"event": "Order Completed", "within": "30d"}},
                {"not": {"message_outcome": {"outcome": "received", "campaign": "spring"}}},
                {"subscribed": {"channel": "email"}},
                {"in_audience": "vip"},
            ]
        }
    )

    found = dependencies(definition, resolver)

    assert found.events == {"Order Completed", "message.delivered"}
    assert found.trait_paths == {"address.city", "tier"}
    assert found.audiences == {"vip"}
    assert found.consent_channels == {"email"}
    assert found.identity_namespaces == {"email"}
    assert found.time_dependent
    assert found.trait_change_matters("address") and found.trait_change_matters("address.city.zip")
    assert not found.trait_change_matters("addresses") and not found.trait_change_matters("tie")
    assert not dependencies(parse_definition({"identity": {"namespace": "email"}})).time_dependent


def test_evaluate_accepts_a_clock_time_or_microseconds() -> None:
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    profile = ProfileView("p", {"d": "2026-01-04T12:00:00Z"})
    definition = parse_definition({"trait": {"path": "d", "op": "within_last", "value": "1d"}})

    assert evaluate(definition, profile, moment) == evaluate(definition, profile, to_micros(moment))
    assert not evaluate(definition, profile, moment + timedelta(hours=12))
