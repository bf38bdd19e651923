"""Conditions on JSON values (traits, event properties) in SQL, type-strict.

Each comparison reads the value through the dialect's typed accessor for the
type of the definition's value (a number, a string, a boolean), which is NULL
for any other type; `atom` then turns NULL into false.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from clarion.audiences.sql.build import (
    all_of,
    any_of,
    cast,
    eq,
    gt,
    gte,
    lt,
    lte,
    negate,
    neq,
    number,
    one_of,
    query,
)
from clarion.audiences.sql.context import SqlContext, atom, let
from clarion.audiences.sql.dates import add, instant_sql, sub
from clarion.audiences.sql.dialects import JsonValue
from clarion.audiences.sql.time import anniversary_sql, bounds_sql, instant_param
from clarion.model.audience_conditions import Condition

_ORDER = {"lt": lt, "lte": lte, "gt": gt, "gte": gte}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


def _bind(ctx: SqlContext, value: Any) -> exp.Expr:
    return ctx.params.number(value) if _kind(value) == "number" else ctx.params.add(value)


def typed(ctx: SqlContext, value: JsonValue, like: Any) -> exp.Expr:
    """The JSON value read as `like`'s type (NULL for any other type)."""
    d = ctx.dialect
    kind = _kind(like)
    if kind == "boolean":
        return d.boolean(value)
    return d.string(value) if kind == "string" else d.number(value)


def equals(ctx: SqlContext, value: JsonValue, expected: Any) -> exp.Expr:
    """Type-strict equality, two-valued."""
    return atom(eq(typed(ctx, value, expected), _bind(ctx, expected)))


def _ordered(ctx: SqlContext, op: str, value: JsonValue, bound: Any) -> exp.Expr:
    left = typed(ctx, value, bound)
    if isinstance(bound, str):
        left = ctx.dialect.ordered(left)
    return atom(_ORDER[op](left, _bind(ctx, bound)))


def _array_has(ctx: SqlContext, value: JsonValue, expected: Any) -> exp.Expr:
    source, element = ctx.dialect.elements(value, ctx.alias("je"))
    found = query([number(1)], source, where=[equals(ctx, element, expected)])
    return all_of(atom(ctx.dialect.is_kind(value, "array")), exp.Exists(this=found))


def _is_string(ctx: SqlContext, value: JsonValue) -> exp.Expr:
    return atom(ctx.dialect.is_kind(value, "string"))


def _contains(ctx: SqlContext, value: JsonValue, expected: Any) -> exp.Expr:
    has = _array_has(ctx, value, expected)
    if not isinstance(expected, str):
        return has
    if expected == "":
        return any_of(_is_string(ctx, value), has)
    position = ctx.dialect.position(ctx.dialect.string(value), ctx.params.add(expected))
    return any_of(atom(gt(position, number(0))), has)


def _affix(ctx: SqlContext, op: str, value: JsonValue, affix: str) -> exp.Expr:
    if affix == "":
        return _is_string(ctx, value)
    size = cast(ctx.params.add(len(affix)), "INT")
    string = ctx.dialect.string(value)
    if op == "starts_with":
        start: exp.Expr = number(1)
        long_enough: exp.Expr = exp.true()
    else:
        start = add(sub(exp.Length(this=string.copy()), size.copy()), number(1))
        long_enough = gte(exp.Length(this=string.copy()), size.copy())
    part = exp.Substring(this=string, start=start, length=size)
    return atom(all_of(long_enough, eq(part, ctx.params.add(affix))))


def member_of(ctx: SqlContext, value: JsonValue, options: list[Any]) -> exp.Expr:
    """Type-strict membership, two-valued: per type class among the options, the value
    read once as that type and tested with one IN (a number never equals "42")."""
    by_kind: dict[str, list[Any]] = {}
    for option in options:
        by_kind.setdefault(_kind(option), []).append(option)
    tests = (
        atom(one_of(typed(ctx, value, group[0]), [_bind(ctx, option) for option in group]))
        for group in by_kind.values()
    )
    return exp.Paren(this=any_of(*tests))


def _not_in(ctx: SqlContext, value: JsonValue, options: list[Any]) -> exp.Expr:
    kinds = sorted({_kind(option) for option in options})
    return all_of(atom(ctx.dialect.is_kind(value, *kinds)), negate(member_of(ctx, value, options)))


def _exists(ctx: SqlContext, value: JsonValue) -> exp.Expr:
    kinds = ("boolean", "number", "string", "array", "object")
    return atom(ctx.dialect.is_kind(value, *kinds))


def _between(ctx: SqlContext, value: JsonValue, bounds: list[Any]) -> exp.Expr:
    low, high = bounds
    left = typed(ctx, value, low)
    if isinstance(low, str):
        left = ctx.dialect.ordered(left)
    between = exp.Between(this=left, low=_bind(ctx, low), high=_bind(ctx, high))
    return atom(between)


def _date(ctx: SqlContext, op: str, value: JsonValue, expected: Any) -> exp.Expr:
    d = ctx.dialect
    aliases = (ctx.alias("v"), ctx.alias("v"), ctx.alias("v"))
    if op == "anniversary_within_next":
        return atom(
            instant_sql(d, d.string(value), aliases, lambda f: anniversary_sql(ctx, f, expected))
        )
    micros = instant_sql(d, d.string(value), aliases, lambda f: f.micros())
    if op == "before":
        return atom(lt(micros, instant_param(ctx, expected)))
    if op == "after":
        return atom(gt(micros, instant_param(ctx, expected)))
    window = expected.bounds(ctx.now)
    return atom(let(ctx, micros, lambda t: bounds_sql(ctx, t, window)))


def value_sql(ctx: SqlContext, value: JsonValue, op: str, expected: Any) -> exp.Expr:
    """`op` with `expected` applied to a JSON value: a two-valued predicate."""
    if op == "eq":
        return equals(ctx, value, expected)
    if op == "ne":
        return atom(neq(typed(ctx, value, expected), _bind(ctx, expected)))
    if op in _ORDER:
        return _ordered(ctx, op, value, expected)
    if op == "in":
        return member_of(ctx, value, expected)
    if op == "not_in":
        return _not_in(ctx, value, expected)
    if op == "contains":
        return exp.Paren(this=_contains(ctx, value, expected))
    if op in ("starts_with", "ends_with"):
        return _affix(ctx, op, value, expected)
    if op == "exists":
        return _exists(ctx, value)
    if op == "not_exists":
        return negate(_exists(ctx, value))
    if op == "between":
        return _between(ctx, value, expected)
    return _date(ctx, op, value, expected)


def condition_sql(ctx: SqlContext, document: exp.Expr, condition: Condition) -> exp.Expr:
    """A condition on a JSON column (`p.traits`, `e.properties`)."""
    value = ctx.dialect.json_at(document, tuple(condition.path.split(".")), ctx.params)
    return value_sql(ctx, value, condition.op, condition.value)
