"""Time in SQL: windows as bound intervals, relative instants, anniversaries.

`now` and every instant derived from it (`now - 30d`, today's date) are bound
parameters computed in Python by `clarion.audiences.time_rules`, the same code
the evaluator uses; the SQL never reads the database's clock.
"""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.sql.build import (
    all_of,
    cases,
    cast,
    eq,
    gt,
    gte,
    lt,
    lte,
    negate,
    number,
    when,
)
from clarion.audiences.sql.context import SqlContext
from clarion.audiences.sql.dates import CalendarSql, InstantFields, sub
from clarion.audiences.time_rules import Today, relative_instant, whole_days
from clarion.model.durations import Bounds, LastWindow, NextWindow


def _instant(ctx: SqlContext, micros: int) -> exp.Expr:
    return ctx.now_param if micros == ctx.now else ctx.params.add(micros)


def instant_param(ctx: SqlContext, value: str | LastWindow | NextWindow) -> exp.Expr:
    """The bound instant a `before`/`after` value stands for."""
    return _instant(ctx, relative_instant(value, ctx.now))


def bounds_sql(ctx: SqlContext, instant: exp.Expr, bounds: Bounds) -> exp.Expr:
    """`instant` (read twice) lies within `bounds` (ends bound as parameters)."""
    parts: list[exp.Expr] = []
    if bounds.low is not None:
        low = _instant(ctx, bounds.low)
        parts.append(gte(instant.copy(), low) if bounds.low_inclusive else gt(instant.copy(), low))
    if bounds.high is not None:
        high = _instant(ctx, bounds.high)
        parts.append(
            lte(instant.copy(), high) if bounds.high_inclusive else lt(instant.copy(), high)
        )
    return all_of(*parts)


def anniversary_sql(ctx: SqlContext, instant: InstantFields, window: NextWindow) -> exp.Expr:
    """The month/day written in `instant` recurs within the window's whole days from today."""
    cal = CalendarSql(ctx.dialect)
    today = Today.of(ctx.now)
    today_param = ctx.params.add(today.days)

    def recurrence(year: int) -> exp.Expr:
        bound_year = cast(ctx.params.add(year), "BIGINT")
        leap_day = all_of(
            eq(instant.month, number(2)),
            eq(instant.day, number(29)),
            negate(cal.is_leap(bound_year)),
        )
        day = when(leap_day, number(28), instant.day)
        return cal.days_from_civil(bound_year, instant.month, day)

    this_year, next_year = recurrence(today.year), recurrence(today.year + 1)
    ahead = cases(
        [(gte(this_year.copy(), today_param.copy()), sub(this_year, today_param.copy()))],
        sub(next_year, today_param),
    )
    within = lte(exp.Paren(this=ahead), ctx.params.add(whole_days(window)))
    return when(instant.valid(), within)
