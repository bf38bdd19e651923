"""Hand-written cases: every engine and the evaluator return the expected members.

Each case names the members the rules of `clarion.audiences.semantics` give;
the property tests then check the engines agree on random data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clarion.audiences import (
    AddressState,
    EventView,
    ProfileView,
    StaticResolver,
    SubscriptionGroup,
)
from clarion.clock import to_micros
from clarion.model.audience import parse_audience, parse_definition
from clarion.model.consent import GroupDefault
from tests.audiences.data import Dataset, Engines

NOW = to_micros(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
DAY = 86_400_000_000


def track(name: str, age: int, **properties: Any) -> EventView:
    """A track event `age` µs before NOW."""
    return EventView("track", name, NOW - age, properties)


PROFILES = [
    ProfileView(
        "p_se_buyer",
        {"country": "SE", "age": 42, "tags": ["vip", 1], "address": {"city": "Malmö"}},
        identities=[("email", "a@x.se")],
        events=[
            track("Order Completed", 2 * DAY, total=150),
            track("Order Completed", 10 * DAY, total=100.0),
            track("Order Completed", 40 * DAY, total=500),
        ],
    ),
    ProfileView(
        "p_se_closed",
        {"country": "SE", "age": "42", "birthday": "1990-01-09"},
        events=[
            track("Order Completed", 1 * DAY, total=200),
            track("Order Completed", 3 * DAY, total=300),
            track("Account Closed", 100 * DAY),
        ],
    ),
    ProfileView(
        "p_no",
        {"country": "NO", "age": 42.0, "flag": True, "birthday": "1992-02-29"},
        identities=[("phone", "+4670000")],
        subscriptions={("email", ""): "unsubscribed"},
        events=[track("Order Completed", 30 * DAY, total=120)],
    ),
    ProfileView(
        "p_empty",
        {"country": None, "age": True, "signed_up": "2025-12-06T09:00:00Z"},
        identities=[("email", "b@x.se")],
        subscriptions={("email", "news"): "subscribed"},
    ),
]
GROUPS = [
    SubscriptionGroup("news", "email", GroupDefault.OPT_IN),
    SubscriptionGroup("promo", "email", GroupDefault.OPT_OUT),
]
DATASET = Dataset(
    PROFILES,
    groups=GROUPS,
    address_states=[AddressState("email", "promo", "a@x.se", "unsubscribed")],
    unstamped_events=[EventView("track", "Account Closed", NOW - DAY, {})],
    other_workspace=[ProfileView("p_other", {"country": "SE"})],
)
EXAMPLE = {
    "all": [
        {"trait": {"path": "country", "op": "eq", "value": "SE"}},
        {
            "performed": {
                "event": "Order Completed",
                "where": [{"path": "total", "op": "gte", "value": 100}],
                "count": {"op": "gte", "value": 2},
                "within": {"last": 30, "unit": "days"},
            }
        },
        {"not": {"performed": {"event": "Account Closed"}}},
    ]
}
VIP = parse_audience(
    {"name": "vip", "definition": {"trait": {"path": "tags", "op": "contains", "value": "vip"}}}
)
RESOLVER = StaticResolver({"vip": VIP}, {g.name: g for g in GROUPS})

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("issue example", EXAMPLE, ["p_se_buyer"]),
    (
        "number never equals string",
        {"trait": {"path": "age", "op": "eq", "value": 42}},
        ["p_no", "p_se_buyer"],
    ),
    ("string 42", {"trait": {"path": "age", "op": "eq", "value": "42"}}, ["p_se_closed"]),
    ("booleans are not numbers", {"trait": {"path": "age", "op": "eq", "value": 1}}, []),
    (
        "ne skips other types",
        {"trait": {"path": "age", "op": "ne", "value": 41}},
        ["p_no", "p_se_buyer"],
    ),
    (
        "in keeps types apart",
        {"trait": {"path": "age", "op": "in", "value": ["42", 41, True]}},
        ["p_empty", "p_se_closed"],
    ),
    (
        "in: integers and doubles are numbers",
        {"trait": {"path": "age", "op": "in", "value": [42, "x"]}},
        ["p_no", "p_se_buyer"],
    ),
    (
        "not_in: listed types only, each against its own",
        {"trait": {"path": "age", "op": "not_in", "value": ["42", 1]}},
        ["p_no", "p_se_buyer"],
    ),
    (
        "not_in skips missing",
        {"trait": {"path": "country", "op": "not_in", "value": ["SE"]}},
        ["p_no"],
    ),
    (
        "not_exists: null and missing",
        {"trait": {"path": "country", "op": "not_exists"}},
        ["p_empty"],
    ),
    (
        "nested path",
        {"trait": {"path": "address.city", "op": "starts_with", "value": "Mal"}},
        ["p_se_buyer"],
    ),
    ("array contains", {"trait": {"path": "tags", "op": "contains", "value": 1.0}}, ["p_se_buyer"]),
    ("in_audience", {"in_audience": "vip"}, ["p_se_buyer"]),
    ("identity", {"identity": {"namespace": "email"}}, ["p_empty", "p_se_buyer"]),
    (
        "subscribed channel",
        {"subscribed": {"channel": "email"}},
        ["p_empty", "p_se_buyer", "p_se_closed"],
    ),
    ("subscribed opt-in group", {"subscribed": {"channel": "email", "group": "news"}}, ["p_empty"]),
    (
        "address opt-out",
        {"subscribed": {"channel": "email", "group": "promo"}},
        ["p_empty", "p_se_closed"],
    ),
    (
        "within_last edge excluded",
        {"trait": {"path": "signed_up", "op": "within_last", "value": "30d"}},
        [],
    ),
    (
        "within_last",
        {"trait": {"path": "signed_up", "op": "within_last", "value": "31d"}},
        ["p_empty"],
    ),
    (
        "anniversary",
        {"trait": {"path": "birthday", "op": "anniversary_within_next", "value": "4d"}},
        ["p_se_closed"],
    ),
    (
        "event window edge",
        {"performed": {"event": "Order Completed", "within": "30d", "count": 3}},
        [],
    ),
    (
        "count that zero meets",
        {"performed": {"event": "Order Completed", "count": {"op": "lt", "value": 2}}},
        ["p_empty", "p_no"],
    ),
    ("unstamped events never count", {"performed": {"event": "Account Closed"}}, ["p_se_closed"]),
    (
        "last_performed more than a week ago",
        {
            "last_performed": {
                "event": "Order Completed",
                "op": "before",
                "value": {"last": 7, "unit": "days"},
            }
        },
        ["p_no"],
    ),
]


@pytest.mark.parametrize(("name", "definition", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_engine_returns_the_expected_members(
    engines: Engines, name: str, definition: dict[str, Any], expected: list[str]
) -> None:
    parsed = parse_definition(definition)
    with engines.loaded(DATASET) as connections:
        found = engines.results(connections, DATASET, parsed, NOW, RESOLVER)
    assert found == {engine: expected for engine in found}, name


def at(*args: int) -> int:
    """An instant (UTC) in microseconds."""
    return to_micros(datetime(*args, tzinfo=UTC))  # type: ignore[misc]


DATE_CASES: list[tuple[str, Any, dict[str, Any], int, bool]] = [
    (
        "31 April is no date",
        "2026-04-30T23:59:59Z",
        {"op": "within_last", "value": "30d"},
        at(2026, 5, 2),
        True,
    ),
    (
        "31 April is no date",
        "2026-04-31",
        {"op": "within_last", "value": "30d"},
        at(2026, 5, 2),
        False,
    ),
    (
        "2023 has no 29 February",
        "2023-02-29",
        {"op": "before", "value": "2030-01-01"},
        at(2026, 1, 5),
        False,
    ),
    (
        "hour 24 is no hour",
        "2026-01-01T24:00:00Z",
        {"op": "before", "value": "2030-01-01"},
        at(2026, 1, 5),
        False,
    ),
    (
        "fractions scale to microseconds",
        "2026-01-05T09:00:00.5Z",
        {"op": "after", "value": "2026-01-05T09:00:00.49999Z"},
        at(2026, 1, 5),
        True,
    ),
    (
        "fractions scale to microseconds",
        "2026-01-05T09:00:00.5Z",
        {"op": "before", "value": "2026-01-05T09:00:00.500001Z"},
        at(2026, 1, 5),
        True,
    ),
    (
        "a zone shifts the instant",
        "2026-01-05T10:00:00+01:00",
        {"op": "after", "value": "2026-01-05T09:00:00Z"},
        at(2026, 1, 5),
        False,
    ),
    (
        "a zone shifts the instant",
        "2026-01-05T03:31:00-05:30",
        {"op": "after", "value": "2026-01-05T09:00:00Z"},
        at(2026, 1, 5),
        True,
    ),
    (
        "leap-day birthday, 1 March of a common year",
        "1992-02-29",
        {"op": "anniversary_within_next", "value": "7d"},
        at(2026, 3, 1),
        False,
    ),
    (
        "leap-day birthday, 28 February of a common year",
        "1992-02-29",
        {"op": "anniversary_within_next", "value": "2h"},
        at(2027, 2, 28, 12),
        True,
    ),
    (
        "leap-day birthday in a leap year",
        "1992-02-29",
        {"op": "anniversary_within_next", "value": "1d"},
        at(2028, 2, 28, 12),
        True,
    ),
    (
        "anniversary of the date as written",
        "1990-01-05T23:30:00-05:00",
        {"op": "anniversary_within_next", "value": "2h"},
        at(2026, 1, 5, 9),
        True,
    ),
    (
        "anniversary next year",
        "1990-01-04",
        {"op": "anniversary_within_next", "value": "P400D"},
        at(2026, 1, 5),
        True,
    ),
    (
        "a number is no date",
        20260105,
        {"op": "before", "value": "2030-01-01"},
        at(2026, 1, 5),
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "value", "condition", "now", "member"), DATE_CASES, ids=[c[0] for c in DATE_CASES]
)
def test_date_corners_agree_on_every_engine(
    engines: Engines, name: str, value: Any, condition: dict[str, Any], now: int, member: bool
) -> None:
    dataset = Dataset([ProfileView("p", {"d": value}), ProfileView("q", {})])
    definition = parse_definition({"trait": {"path": "d", **condition}})

    with engines.loaded(dataset) as connections:
        found = engines.results(connections, dataset, definition, now, RESOLVER)

    assert found == {engine: ["p"] if member else [] for engine in found}, name
