"""Conditions on JSON values, in Python, by the rules of `clarion.audiences.semantics`."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, Final

from clarion.audiences.time_rules import (
    Today,
    comparison_changes,
    days_to_anniversary,
    relative_instant,
    whole_days,
    window_changes,
)
from clarion.model.audience_conditions import DATE_OPERATORS, Condition
from clarion.model.durations import (
    InstantParts,
    LastWindow,
    NextWindow,
    parse_instant_parts,
)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
_EXACT: Final = 2**53
"""Integers up to this size are exact doubles (compare as they are)."""
"""What a path finds when there is nothing there."""

Test = Callable[[Any, int], bool]
"""A test of one value at `now` (µs)."""
Changes = Callable[[Any, int], list[int]]
"""The instants at which a test of one value may flip as `now` moves."""


def lookup(document: Any, path: tuple[str, ...]) -> Any:
    """The value at `path`, walking objects only; MISSING when there is none."""
    value = document
    for segment in path:
        if not isinstance(value, Mapping) or segment not in value:
            return MISSING
        value = value[segment]
    return value


def as_double(value: Any) -> float | None:
    """A JSON number as a double; None for anything else (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def kind(value: Any) -> str:
    """The JSON type of a value: missing, null, boolean, number, string, array, object."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if as_double(value) is not None else "invalid"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else "invalid"


def equals(value: Any, expected: Any) -> bool:
    """Type-strict equality with a scalar of a definition."""
    if isinstance(expected, bool):
        return isinstance(value, bool) and value == expected
    if isinstance(expected, int | float):
        number = as_double(value)
        return number is not None and number == float(expected)
    return isinstance(value, str) and value == expected


def _equality(expected: Any) -> Callable[[Any], bool]:
    """`equals(v, expected)` with the type dispatch on `expected` done once."""
    if isinstance(expected, bool):
        return lambda v: isinstance(v, bool) and v == expected
    if isinstance(expected, int | float):
        wanted = float(expected)

        def number_equals(v: Any) -> bool:
            number = as_double(v)
            return number is not None and number == wanted

        return number_equals
    return lambda v: isinstance(v, str) and v == expected


def _ordering(op: str, bound: Any) -> Callable[[Any], bool]:
    """`v <op> bound`, type-strict (a string bound compares strings by code point, a number
    bound compares numbers, booleans are not numbers), with the dispatch done once."""
    compare: Callable[[Any, Any], bool] = {
        "lt": operator.lt,
        "lte": operator.le,
        "gt": operator.gt,
    }.get(op, operator.ge)
    if isinstance(bound, str):
        return lambda v: isinstance(v, str) and compare(v, bound)
    limit = float(bound)

    def on_number(v: Any) -> bool:
        kind = type(v)
        if kind is float or (kind is int and -_EXACT <= v <= _EXACT):
            return compare(v, limit)  # the value is its double: no conversion needed
        number = as_double(v)
        return number is not None and compare(number, limit)

    return on_number


def _contains(value: Any, expected: Any) -> bool:
    if isinstance(value, str) and isinstance(expected, str):
        return expected in value
    return isinstance(value, list) and any(equals(element, expected) for element in value)


def _not_in(value: Any, options: list[Any]) -> bool:
    kinds = {kind(option) for option in options}
    return kind(value) in kinds and not any(equals(value, o) for o in options)


def value_check(op: str, expected: Any) -> Callable[[Any], bool] | None:
    """The test `op` with `expected` applies to a value, for operators that do not read
    `now`; None for the date operators."""
    if op in DATE_OPERATORS:
        return None
    if op == "eq":
        return _equality(expected)
    if op == "between":
        low, high = _ordering("gte", expected[0]), _ordering("lte", expected[1])
        return lambda v: low(v) and high(v)
    if op == "in" and all(isinstance(option, str) for option in expected):
        strings = frozenset(expected)
        return lambda v: isinstance(v, str) and v in strings
    checks: dict[str, Callable[[Any], bool]] = {
        "ne": lambda v: kind(v) == kind(expected) and not equals(v, expected),
        "in": lambda v: any(equals(v, o) for o in expected),
        "not_in": lambda v: _not_in(v, expected),
        "contains": lambda v: _contains(v, expected),
        "starts_with": lambda v: isinstance(v, str) and v.startswith(expected),
        "ends_with": lambda v: isinstance(v, str) and v.endswith(expected),
        "exists": lambda v: v is not MISSING and v is not None,
        "not_exists": lambda v: v is MISSING or v is None,
    }
    return checks.get(op) or _ordering(op, expected)  # lt, lte, gt, gte


def value_test(op: str, expected: Any) -> Test:
    """The test `op` with `expected` applies to a value."""
    check = value_check(op, expected)
    if check is None:
        return _date_test(op, expected)
    found = check
    return lambda v, _: found(v)


InstantTest = Callable[[InstantParts, int], bool]
InstantChanges = Callable[[InstantParts, int], list[int]]


def instant_test(op: str, expected: Any) -> InstantTest:
    """A date operator's test of an instant at `now`."""

    def test(parts: InstantParts, now: int) -> bool:
        t = parts.micros
        if op == "before":
            return t < relative_instant(expected, now)
        if op == "after":
            return t > relative_instant(expected, now)
        if op in ("within_last", "within_next"):
            return bool(expected.bounds(now).contains(t))
        ahead = days_to_anniversary(parts.month, parts.day, Today.of(now))
        return ahead <= whole_days(expected)

    return test


def instant_changes(op: str, expected: Any) -> InstantChanges | None:
    """When a date operator's test of a fixed instant may flip; None if never."""
    if op in ("before", "after") and isinstance(expected, str):
        return None

    def changes(parts: InstantParts, now: int) -> list[int]:
        if op == "anniversary_within_next":
            return [Today.of(now).next_midnight]
        if op in ("before", "after"):
            assert isinstance(expected, LastWindow | NextWindow)
            return comparison_changes(op, expected, parts.micros)
        return window_changes(expected, parts.micros)

    return changes


def _parts(value: Any) -> InstantParts | None:
    return parse_instant_parts(value) if isinstance(value, str) else None


def _date_test(op: str, expected: Any) -> Test:
    test = instant_test(op, expected)

    def on_value(value: Any, now: int) -> bool:
        parts = _parts(value)
        return parts is not None and test(parts, now)

    return on_value


def value_changes(op: str, expected: Any) -> Changes | None:
    """When a test may flip as `now` moves; None for tests that do not depend on time."""
    changes = instant_changes(op, expected) if op in DATE_OPERATORS else None
    if changes is None:
        return None
    found = changes

    def on_value(value: Any, now: int) -> list[int]:
        parts = _parts(value)
        return [] if parts is None else found(parts, now)

    return on_value


def condition_test(condition: Condition) -> Callable[[Any, int], bool]:
    """The test of a condition on a document (traits, event properties)."""
    path = tuple(condition.path.split("."))
    check = value_check(condition.op, condition.value)
    if check is not None and len(path) == 1:
        (key,) = path
        found = check

        def at_key(document: Any, now: int) -> bool:
            if isinstance(document, dict):  # the common case, without `lookup`'s loop
                return found(document.get(key, MISSING))
            return found(lookup(document, path))

        return at_key
    test = value_test(condition.op, condition.value)
    return lambda document, now: test(lookup(document, path), now)


def condition_changes(condition: Condition) -> Changes | None:
    """When a condition on a document may flip as `now` moves (None: never)."""
    path = tuple(condition.path.split("."))
    changes = value_changes(condition.op, condition.value)
    if changes is None:
        return None
    found = changes
    return lambda document, now: found(lookup(document, path), now)
