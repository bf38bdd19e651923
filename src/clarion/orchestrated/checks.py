"""Type checks of filters and paths against the catalog, by activity.

An `attribute` condition's operator must suit the column's declared type (a
date takes date operators or ISO dates, a number takes numbers); paths walk
declared links only; `aggregate` goes over a one-to-many link; profile
conditions (`trait`, `subscribed`, `performed`, ...) need the profiles
dimension or a link to profiles.
"""

from __future__ import annotations

from typing import Any

from clarion.model.audience import walk
from clarion.model.audience_conditions import Condition
from clarion.model.audience_nodes import (
    Aggregate,
    AggregateNode,
    AttributeNode,
    ContextNode,
    NodeBase,
)
from clarion.model.durations import LastWindow, NextWindow, parse_instant
from clarion.orchestrated.canvas import AggregateValue
from clarion.orchestrated.catalog import Catalog, PathError, Step

_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "starts_with"}
        | {"ends_with", "between", "exists", "not_exists"}
    ),
    "integer": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between", "exists", "not_exists"}
    ),
    "boolean": frozenset({"eq", "ne", "exists", "not_exists"}),
    "date": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "between", "before", "after"}
        | {"within_last", "within_next", "exists", "not_exists"}
    ),
}
_BY_TYPE["number"] = _BY_TYPE["integer"]
_BY_TYPE["timestamp"] = _BY_TYPE["date"]
PROFILE_KINDS = frozenset(
    {"trait", "identity", "subscribed", "in_audience", "performed", "not_performed"}
    | {"last_performed", "message_outcome", "time"}
)


def _values(condition: Condition) -> list[Any]:
    value = condition.value
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def article(word: str) -> str:
    """`a` or `an`."""
    return "an" if word[:1] in "aeiou" else "a"


def value_problem(kind: str, condition: Condition) -> str | None:
    """Why `condition` does not suit a column of type `kind` (None when it does)."""
    op = condition.op
    if op not in _BY_TYPE[kind]:
        return f"`{op}` does not apply to a {kind} attribute"
    for value in _values(condition):
        if isinstance(value, LastWindow | NextWindow):
            continue
        if kind == "string" and not isinstance(value, str):
            return f"a string attribute compares with strings, not {value!r}"
        if kind in ("integer", "number") and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            return f"{article(kind)} {kind} attribute compares with numbers, not {value!r}"
        if kind == "boolean" and not isinstance(value, bool):
            return f"a boolean attribute compares with true or false, not {value!r}"
        if kind in ("date", "timestamp") and (
            not isinstance(value, str) or parse_instant(value) is None
        ):
            return f"a {kind} attribute compares with ISO 8601 dates, not {value!r}"
    return None


def resolve_column(
    catalog: Catalog, dimension: str, enriched: dict[str, str], path: str
) -> tuple[Step | None, str]:
    """(the resolved step, its type): an enrichment column first, else the catalog's path.

    The type is `json` for a trait path of a profile.
    """
    if path in enriched:
        return None, enriched[path]
    step = catalog.resolve(dimension, path)
    if step.column is not None:
        kind = step.entity.type_of(step.column)
        assert kind is not None
        return step, kind
    if step.trait:
        return step, "json"
    raise PathError(f"{path!r} ends on a link, not an attribute")


def filter_problems(
    catalog: Catalog,
    dimension: str,
    node: NodeBase,
    where: str,
    enriched: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """(path, reason) for every node of a filter that does not fit the dimension."""
    enriched = enriched or {}
    problems: list[tuple[str, str]] = []
    has_profile = dimension == "profiles" or catalog.profile_link(dimension) is not None
    for path, found in walk(node, where):
        if isinstance(found, AttributeNode):
            problems.extend(condition_problems(catalog, dimension, enriched, found.attribute, path))
        elif isinstance(found, AggregateNode):
            problems.extend(aggregate_problems(catalog, dimension, found.aggregate, path))
        elif isinstance(found, ContextNode):
            problems.append((path, "`context` belongs to journeys, not canvases"))
        elif found.KIND in PROFILE_KINDS and not has_profile:
            problems.append(
                (path, f"`{found.KIND}` needs a profile, and {dimension} has no link to profiles")
            )
    return problems


def condition_problems(
    catalog: Catalog, dimension: str, enriched: dict[str, str], condition: Condition, path: str
) -> list[tuple[str, str]]:
    """Problems of one `attribute` condition."""
    try:
        _step, kind = resolve_column(catalog, dimension, enriched, condition.path)
    except PathError as exc:
        return [(f"{path}.attribute.path", str(exc))]
    if kind == "json":
        return []
    reason = value_problem(kind, condition)
    return [(f"{path}.attribute", reason)] if reason else []


def aggregate_problems(
    catalog: Catalog, dimension: str, spec: Aggregate | AggregateValue, path: str
) -> list[tuple[str, str]]:
    """Problems of one aggregate: the link, the aggregated column, the `where`."""
    link = catalog.entity(dimension).links.get(spec.link)
    if link is None or not link.many:
        return [(f"{path}.aggregate.link", f"{dimension} has no one-to-many link {spec.link!r}")]
    problems: list[tuple[str, str]] = []
    if spec.path is not None:
        try:
            _step, kind = resolve_column(catalog, link.target, {}, spec.path)
        except PathError as exc:
            return [(f"{path}.aggregate.path", str(exc))]
        if kind not in ("integer", "number"):
            problems.append((f"{path}.aggregate.path", f"{spec.path!r} is {kind}, not a number"))
    for i, condition in enumerate(spec.where):
        problems.extend(
            condition_problems(catalog, link.target, {}, condition, f"{path}.aggregate.where[{i}]")
        )
    return problems
