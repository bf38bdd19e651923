"""Conditions on typed columns (string, number, boolean, date, timestamp).

A NULL column fails every operator but `not_exists` (`atom` makes it false).
A date means midnight UTC, as in the audience language: `within_next 7 days`
holds for a date whose midnight is in `[now, now + 7d)`. Each instant bound
becomes a bound DATE parameter (`midnight(d) < X` is `d < ceil(X)`), so the
engines compare plain dates and never parse or convert time zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlglot import exp

from clarion.audiences.sql.build import all_of, any_of, eq, gt, gte, lt, lte, negate, neq, number
from clarion.audiences.sql.context import atom
from clarion.model.audience_conditions import Condition
from clarion.model.durations import LastWindow, NextWindow, micros, parse_instant
from clarion.orchestrated.sql.context import RowContext

_CMP = {"lt": lt, "lte": lte, "gt": gt, "gte": gte, "eq": eq, "ne": neq}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(ctx: RowContext, value: Any) -> int:
    if isinstance(value, LastWindow):
        return ctx.now - micros(value.duration)
    if isinstance(value, NextWindow):
        return ctx.now + micros(value.duration)
    found = parse_instant(value)
    assert found is not None
    return found


def _as_datetime(us: int) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).replace(tzinfo=None)


def _floor(us: int) -> date:
    return _as_datetime(us).date()


def _ceil(us: int) -> date:
    day = _floor(us)
    return day if us % 86_400_000_000 == 0 else day + timedelta(days=1)


def _time_cmp(ctx: RowContext, kind: str, column: exp.Expr, op: str, us: int) -> exp.Expr:
    """`column op X` for an instant X: dates compare as their midnight."""
    p = ctx.params
    if kind == "timestamp":
        return _CMP[op](column, p.add(_as_datetime(us)))
    floor, ceil = _floor(us), _ceil(us)
    if op == "lt":
        return lt(column, p.add(ceil))
    if op == "lte":
        return lte(column, p.add(floor))
    if op == "gt":
        return gt(column, p.add(floor))
    if op == "gte":
        return gte(column, p.add(ceil))
    exact = floor == ceil
    if op == "eq":
        return eq(column, p.add(floor)) if exact else exp.false()
    return (
        neq(column, p.add(floor))
        if exact
        else exp.Not(this=exp.Is(this=column, expression=exp.Null()))
    )


def _time(ctx: RowContext, kind: str, column: exp.Expr, cond: Condition) -> exp.Expr:
    op, value = cond.op, cond.value
    if op in ("within_last", "within_next"):
        assert isinstance(value, LastWindow | NextWindow)
        b = value.bounds(ctx.now)
        assert b.low is not None and b.high is not None
        low = _time_cmp(ctx, kind, column.copy(), "gte" if b.low_inclusive else "gt", b.low)
        high = _time_cmp(ctx, kind, column.copy(), "lte" if b.high_inclusive else "lt", b.high)
        return all_of(low, high)
    if op == "between":
        assert isinstance(value, list)
        return all_of(
            _time_cmp(ctx, kind, column.copy(), "gte", _instant(ctx, value[0])),
            _time_cmp(ctx, kind, column.copy(), "lte", _instant(ctx, value[1])),
        )
    named = {"before": "lt", "after": "gt"}.get(op, op)
    return _time_cmp(ctx, kind, column, named, _instant(ctx, value))


def _bind(ctx: RowContext, kind: str, value: Any) -> exp.Expr:
    if kind in ("integer", "number"):
        return ctx.params.number(value)
    return ctx.params.add(value)


def _text(ctx: RowContext, column: exp.Expr, op: str, value: str) -> exp.Expr:
    size = exp.Literal.number(len(value))
    if op == "contains":
        return gt(ctx.dialect.position(column, ctx.params.add(value)), number(0))
    if op == "starts_with":
        part = exp.Substring(this=column, start=number(1), length=size)
        return eq(part, ctx.params.add(value))
    start = exp.Sub(this=exp.Length(this=column.copy()), expression=number(len(value) - 1))
    long_enough = gte(exp.Length(this=column.copy()), size.copy())
    tail = exp.Substring(this=column, start=start, length=size)
    return all_of(long_enough, eq(tail, ctx.params.add(value)))


def typed_condition(ctx: RowContext, column: exp.Expr, kind: str, cond: Condition) -> exp.Expr:
    """A two-valued predicate for `cond` on a column of type `kind`."""
    op, value = cond.op, cond.value
    present = exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null()))
    if op == "exists":
        return present
    if op == "not_exists":
        return exp.Is(this=column, expression=exp.Null())
    if kind in ("date", "timestamp"):
        return atom(_time(ctx, kind, column, cond))
    if kind == "string" and op in ("lt", "lte", "gt", "gte", "between"):
        column = ctx.engine.ordered(column)
    if op in _CMP:
        return atom(_CMP[op](column, _bind(ctx, kind, value)))
    if op in ("in", "not_in"):
        assert isinstance(value, list)
        listed = any_of(*(eq(column.copy(), _bind(ctx, kind, v)) for v in value))
        return atom(exp.Paren(this=listed)) if op == "in" else all_of(present, negate(listed))
    if op == "between":
        assert isinstance(value, list)
        low, high = (_bind(ctx, kind, v) for v in value)
        return atom(exp.Between(this=column, low=low, high=high))
    assert isinstance(value, str)
    return atom(_text(ctx, column, op, value))
