"""Hypothesis strategies for audience definitions: every compiled node kind and operator."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from clarion.model.audience_conditions import COUNT_OPERATORS, DATE_OPERATORS, OPERATORS
from clarion.model.durations import parse_instant
from tests.audiences.strategies import (
    EVENTS,
    GROUP_NAMES,
    KEYS,
    PATHS,
    PROPERTY_KEYS,
    Pool,
    instants,
    valid_instants,
)

LAST = [
    {"last": 30, "unit": "days"},
    {"last": 7, "unit": "days"},
    {"last": 2, "unit": "hours"},
    {"last": 15, "unit": "minutes"},
    {"last": 1, "unit": "weeks"},
    {"last": "1d"},
    "30d",
    "P30D",
    "PT2H",
    "P365D",
]
NEXT = [
    {"next": 7, "unit": "days"},
    {"next": 1, "unit": "days"},
    {"next": 12, "unit": "hours"},
    {"next": 30, "unit": "days"},
    {"next": "2h"},
    "7d",
    "P1W",
    "P400D",
]


def _strings(pool: Pool) -> st.SearchStrategy[str]:
    """Strings, often slices of pooled strings (so affixes and substrings match)."""
    pooled = [v for v in pool.values if isinstance(v, str)]
    if not pooled:
        return pool.typed(str)

    @st.composite
    def sliced(draw: st.DrawFn) -> str:
        text = draw(st.sampled_from(pooled))
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        return text[start:end]

    return st.one_of(pool.typed(str), sliced())


@st.composite
def windows(draw: st.DrawFn, pool: Pool) -> Any:
    """Any window: last, next or between two instants."""
    choice = draw(st.integers(0, 4))
    if choice < 3:
        return draw(st.sampled_from(LAST))
    if choice == 3:
        return draw(st.sampled_from(NEXT))
    first, second = draw(instants(pool.now)), draw(instants(pool.now))
    a, b = parse_instant(first), parse_instant(second)
    if a is None or b is None or a == b:
        return draw(st.sampled_from(LAST))
    low, high = (first, second) if a < b else (second, first)
    return {"from": low, "to": high}


@st.composite
def values_for(draw: st.DrawFn, op: str, pool: Pool) -> Any:
    """A value `op` accepts, drawn so that it often meets the data."""
    if op in ("eq", "ne"):
        return draw(pool.typed(str, int, bool))
    if op in ("lt", "lte", "gt", "gte"):
        return draw(pool.typed(str, int))
    if op in ("in", "not_in"):
        return draw(st.lists(pool.typed(str, int, bool), min_size=1, max_size=4))
    if op == "contains":
        return draw(st.one_of(_strings(pool), pool.typed(int, bool)))
    if op in ("starts_with", "ends_with"):
        return draw(_strings(pool))
    if op in ("exists", "not_exists"):
        return None
    if op == "between":
        kind = draw(st.sampled_from([str, int]))
        pair = draw(st.lists(pool.typed(kind), min_size=2, max_size=2))
        return sorted(pair, key=lambda v: v if isinstance(v, str) else (float(v), v))
    if op in ("before", "after"):
        relative = [w for w in LAST + NEXT if isinstance(w, dict)]
        found = [v for v in pool.values if isinstance(v, str) and parse_instant(v) is not None]
        near = [st.sampled_from(found)] if found else []
        return draw(st.one_of(*near, valid_instants(pool.now), st.sampled_from(relative)))
    if op == "within_last":
        return draw(st.sampled_from(LAST))
    return draw(st.sampled_from(NEXT))


def uniform(options: list[Any]) -> st.SearchStrategy[Any]:
    """One of `options`, evenly (Hypothesis favours the first of `sampled_from`, and every
    operator and node kind must be exercised as often as the others)."""
    size = len(options)
    draws = st.tuples(*[st.integers(0, size - 1)] * 4)
    return draws.map(lambda picks: options[sum(picks) % size])


def _fits(op: str, values: list[Any]) -> bool:
    """Whether values observed at a path suit `op` (instants for date operators)."""
    if op in DATE_OPERATORS:
        return any(isinstance(v, str) and parse_instant(v) is not None for v in values)
    return bool(values)


@st.composite
def conditions(
    draw: st.DrawFn, pool: Pool, paths: list[str], scope: str, ops: tuple[str, ...] = OPERATORS
) -> dict[str, Any]:
    """`{path, op, value}` with a value the operator accepts (`scope`: trait or prop)."""
    op = draw(uniform(list(ops)))
    populated = [p for p in paths if _fits(op, pool.observed.get(f"{scope}:{p}", []))]
    prefer_data = populated and draw(uniform([True, True, True, False]))
    path = draw(uniform(populated if prefer_data else paths))
    condition: dict[str, Any] = {"path": path, "op": op}
    value = draw(values_for(op, pool.at(f"{scope}:{path}")))
    if value is not None:
        condition["value"] = value
    return condition


def _counts() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(0, 3),
        st.fixed_dictionaries({"op": st.sampled_from(COUNT_OPERATORS), "value": st.integers(0, 3)}),
    )


@st.composite
def performed(draw: st.DrawFn, pool: Pool) -> dict[str, Any]:
    """`performed`, `not_performed` or `last_performed`."""
    spec: dict[str, Any] = {"event": draw(uniform([*EVENTS[:2], *EVENTS]))}
    where = draw(st.lists(conditions(pool, [*PROPERTY_KEYS, "o.a"], "prop"), max_size=1))
    if where:
        spec["where"] = where
    kind = draw(uniform(["performed", "performed", "not_performed", "last_performed"]))
    if kind == "last_performed":
        spec["op"] = draw(st.sampled_from(["before", "after", "within_last", "within_next"]))
        spec["value"] = draw(values_for(spec["op"], pool))
        return {kind: spec}
    if draw(st.booleans()):
        spec["within"] = draw(windows(pool))
    if kind == "performed" and draw(st.booleans()):
        spec["count"] = draw(_counts())
    return {kind: spec}


@st.composite
def message_outcomes(draw: st.DrawFn, pool: Pool) -> dict[str, Any]:
    """`message_outcome` with optional source, template, channel, window and count."""
    spec: dict[str, Any] = {
        "outcome": draw(st.sampled_from(["received", "sent", "opened", "delivered"]))
    }
    source = draw(st.sampled_from([None, "campaign", "journey", "canvas"]))
    if source:
        spec[source] = draw(st.sampled_from(["spring", "welcome"]))
    for key, options in (("template", ["t1", "t2"]), ("channel", ["email", "sms"])):
        if draw(st.booleans()):
            spec[key] = draw(st.sampled_from(options))
    if draw(st.booleans()):
        spec["within"] = draw(windows(pool))
    if draw(st.booleans()):
        spec["count"] = draw(_counts())
    return {"message_outcome": spec}


def _subscribed(channel: str, group: str | None) -> dict[str, Any]:
    spec = {"channel": channel} | ({"group": group} if group else {})
    return {"subscribed": spec}


DATE_OPS = tuple(op for op in OPERATORS if op in DATE_OPERATORS)


def leaves(pool: Pool, audiences: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Every compiled leaf kind, evenly."""
    traits = conditions(pool, [*KEYS, *KEYS, *PATHS], "trait").map(lambda c: {"trait": c})
    dates = conditions(pool, ["d", "d", "bd", "bd", "o.d", *KEYS], "trait", DATE_OPS).map(
        lambda c: {"trait": c}
    )
    options = [
        traits,
        traits,
        traits,
        dates,
        dates,
        performed(pool),
        performed(pool),
        message_outcomes(pool),
        st.sampled_from(["email", "phone", "user_id", "loyalty"]).map(
            lambda ns: {"identity": {"namespace": ns}}
        ),
        st.builds(
            _subscribed,
            st.sampled_from(["email", "sms", "push"]),
            st.sampled_from([None, *GROUP_NAMES, "ghost"]),
        ),
    ]
    if audiences:
        options.append(st.sampled_from(audiences).map(lambda name: {"in_audience": name}))
    return uniform(options).flatmap(lambda strategy: strategy)


def flat(pool: Pool, audiences: list[str]) -> st.SearchStrategy[Any]:
    """`any` of several leaves: each leaf is compared on its own (see `per_node`)."""
    return st.lists(leaves(pool, audiences), min_size=4, max_size=6).map(lambda xs: {"any": xs})


def trees(pool: Pool, audiences: list[str], max_leaves: int = 5) -> st.SearchStrategy[Any]:
    """A definition: leaves under all / any / not, any depth."""
    return st.recursive(
        leaves(pool, audiences),
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
            children.map(lambda x: {"not": x}),
        ),
        max_leaves=max_leaves,
    )
