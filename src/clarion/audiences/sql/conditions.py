"""Conditions on JSON values (traits, event properties) in SQL, type-strict.

Each comparison reads the value through the dialect's typed accessor for the
type of the definition's value (a number, a string, a boolean), which is NULL
for any other type; `atom` then turns NULL into false.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from clarion.audiences.sql.context import SqlContext, atom
from clarion.audiences.sql.dates import InstantSql
from clarion.audiences.sql.dialects import JsonValue
from clarion.audiences.sql.time import anniversary_sql, bounds_sql, instant_param
from clarion.model.audience_conditions import Condition
from clarion.model.durations import Bounds


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


def typed(ctx: SqlContext, value: JsonValue, like: Any) -> tuple[exp.Expr, exp.Expr]:
    """The JSON value read as `like`'s type, and `like` bound: ready to compare."""
    d = ctx.dialect
    if isinstance(like, bool):
        return d.boolean(value), ctx.params.add(like)
    if isinstance(like, str):
        return d.string(value), ctx.params.add(like)
    return d.number(value), ctx.params.number(like)


def equals(ctx: SqlContext, value: JsonValue, expected: Any) -> exp.Expr:
    """Type-strict equality, two-valued."""
    left, right = typed(ctx, value, expected)
    return atom(left.eq(right))


def _ordered(ctx: SqlContext, op: str, value: JsonValue, bound: Any) -> exp.Expr:
    left, right = typed(ctx, value, bound)
    if isinstance(bound, str):
        left = ctx.dialect.ordered(left)
    kinds = {"lt": exp.LT, "lte": exp.LTE, "gt": exp.GT, "gte": exp.GTE}
    return atom(kinds[op](this=left, expression=right))


def _array_has(ctx: SqlContext, value: JsonValue, expected: Any) -> exp.Expr:
    source, element = ctx.dialect.elements(value, ctx.alias("je"))
    found = exp.select("1").from_(source).where(equals(ctx, element, expected))
    return exp.and_(atom(ctx.dialect.is_kind(value, "array")), exp.Exists(this=found))


def _is_string(ctx: SqlContext, value: JsonValue) -> exp.Expr:
    return atom(ctx.dialect.is_kind(value, "string"))


def _contains(ctx: SqlContext, value: JsonValue, expected: Any) -> exp.Expr:
    has = _array_has(ctx, value, expected)
    if not isinstance(expected, str):
        return has
    if expected == "":
        return exp.or_(_is_string(ctx, value), has)
    string = ctx.dialect.string(value)
    inside = ctx.dialect.position(string, ctx.params.add(expected)) > exp.Literal.number(0)
    return exp.or_(atom(inside), has)


def _affix(ctx: SqlContext, op: str, value: JsonValue, affix: str) -> exp.Expr:
    if affix == "":
        return _is_string(ctx, value)
    string = ctx.dialect.string(value)
    size = exp.cast(ctx.params.add(len(affix)), "INT")
    part = ctx.params.add(affix)
    if op == "starts_with":
        return atom(exp.Substring(this=string, start=exp.Literal.number(1), length=size).eq(part))
    start = exp.Add(
        this=exp.Sub(this=exp.Length(this=string.copy()), expression=size.copy()),
        expression=exp.Literal.number(1),
    )
    tail = exp.Substring(this=string.copy(), start=start, length=size.copy())
    return atom(exp.and_(exp.Length(this=string.copy()) >= size.copy(), tail.eq(part)))


def _not_in(ctx: SqlContext, value: JsonValue, options: list[Any]) -> exp.Expr:
    kinds = sorted({_kind(option) for option in options})
    listed = exp.or_(*(equals(ctx, value, option) for option in options))
    return exp.and_(atom(ctx.dialect.is_kind(value, *kinds)), exp.not_(exp.Paren(this=listed)))


def _exists(ctx: SqlContext, value: JsonValue) -> exp.Expr:
    kinds = ("boolean", "number", "string", "array", "object")
    return atom(ctx.dialect.is_kind(value, *kinds))


def _date(ctx: SqlContext, op: str, value: JsonValue, expected: Any) -> exp.Expr:
    instant = InstantSql(ctx.dialect, ctx.dialect.string(value))
    if op == "anniversary_within_next":
        return atom(anniversary_sql(ctx, instant, expected))
    micros = instant.micros()
    if op == "before":
        return atom(micros < instant_param(ctx, expected))
    if op == "after":
        return atom(micros > instant_param(ctx, expected))
    bounds: Bounds = expected.bounds(ctx.now)
    return atom(bounds_sql(ctx, micros, bounds))


def value_sql(ctx: SqlContext, value: JsonValue, op: str, expected: Any) -> exp.Expr:
    """`op` with `expected` applied to a JSON value: a two-valued predicate."""
    if op == "eq":
        return equals(ctx, value, expected)
    if op == "ne":
        left, right = typed(ctx, value, expected)
        return atom(left.neq(right))
    if op in ("lt", "lte", "gt", "gte"):
        return _ordered(ctx, op, value, expected)
    if op == "in":
        return exp.Paren(this=exp.or_(*(equals(ctx, value, o) for o in expected)))
    if op == "not_in":
        return _not_in(ctx, value, expected)
    if op == "contains":
        return exp.Paren(this=_contains(ctx, value, expected))
    if op in ("starts_with", "ends_with"):
        return _affix(ctx, op, value, expected)
    if op == "exists":
        return _exists(ctx, value)
    if op == "not_exists":
        return exp.not_(_exists(ctx, value))
    if op == "between":
        low, high = expected
        left, low_param = typed(ctx, value, low)
        high_param = ctx.params.number(high) if not isinstance(high, str) else ctx.params.add(high)
        if isinstance(low, str):
            left = ctx.dialect.ordered(left)
        return atom(exp.Between(this=left, low=low_param, high=high_param))
    return _date(ctx, op, value, expected)


def condition_sql(ctx: SqlContext, document: exp.Expr, condition: Condition) -> exp.Expr:
    """A condition on a JSON column (`p.traits`, `e.properties`)."""
    value = ctx.dialect.json_at(document, tuple(condition.path.split(".")), ctx.params)
    return value_sql(ctx, value, condition.op, condition.value)
