"""Event nodes in SQL: semi-joins of `profiles` with grouped `events`.

`performed` with the default count is `p.id IN (matching events)`; a count is a
GROUP BY ... HAVING; a count that zero satisfies (`lt 3`, `eq 0`) is the
complement of the profiles whose count fails it, so profiles without any event
are members too.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from clarion.audiences.semantics import TRACK, outcome_as_performed
from clarion.audiences.sql.conditions import condition_sql
from clarion.audiences.sql.context import SQL_COMPILERS, SqlContext
from clarion.audiences.sql.dialects import text
from clarion.audiences.sql.time import bounds_sql, instant_param
from clarion.model.audience_conditions import AT_LEAST_ONCE, CountCondition
from clarion.model.audience_nodes import (
    LastPerformedNode,
    MessageOutcomeNode,
    NotPerformedNode,
    Performed,
    PerformedNode,
)

_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "lte": exp.LTE, "gt": exp.GT, "gte": exp.GTE}


def matching_events(ctx: SqlContext, spec: Performed, alias: str) -> exp.Select:
    """`SELECT e.profile_id FROM events e WHERE` the event matches (window included)."""
    e = alias
    rows = (
        exp.select(exp.column("profile_id", e))
        .from_(exp.table_("events").as_(e))
        .where(exp.column("workspace_id", e).eq(ctx.workspace))
        .where(exp.column("profile_id", e).is_(exp.null()).not_())
        .where(exp.column("type", e).eq(text(TRACK)))
        .where(exp.column("event", e).eq(ctx.params.add(spec.event)))
    )
    for condition in spec.where:
        rows = rows.where(condition_sql(ctx, exp.column("properties", e), condition))
    if spec.within is not None:
        rows = rows.where(bounds_sql(ctx, exp.column("timestamp", e), spec.within.bounds(ctx.now)))
    return rows


def _count(ctx: SqlContext, count: CountCondition, negate: bool) -> exp.Expr:
    compare = _COMPARE[count.op](
        this=exp.Count(this=exp.Star()), expression=ctx.params.add(count.value)
    )
    return exp.not_(compare) if negate else compare


def performed_sql(ctx: SqlContext, spec: Performed) -> exp.Expr:
    """The profile's matching events satisfy the count."""
    e = ctx.alias("e")
    rows = matching_events(ctx, spec, e)
    if spec.count == AT_LEAST_ONCE:
        return ctx.profile_id.isin(query=rows)
    grouped = rows.group_by(exp.column("profile_id", e))
    if not spec.count.holds(0):
        return ctx.profile_id.isin(query=grouped.having(_count(ctx, spec.count, False)))
    failing = grouped.having(_count(ctx, spec.count, True))
    return exp.not_(ctx.profile_id.isin(query=failing))


@SQL_COMPILERS.register("performed")
def compile_performed(node: PerformedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Performed an event `count` times within a window."""
    return performed_sql(ctx, node.performed)


@SQL_COMPILERS.register("not_performed")
def compile_not_performed(node: NotPerformedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Did not perform an event within a window."""
    spec = node.not_performed
    performed = Performed(event=spec.event, where=spec.where, within=spec.within)
    return exp.not_(performed_sql(ctx, performed))


@SQL_COMPILERS.register("message_outcome")
def compile_message_outcome(node: MessageOutcomeNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Sugar over `performed` on `message.<outcome>` events."""
    return performed_sql(ctx, outcome_as_performed(node.message_outcome))


@SQL_COMPILERS.register("last_performed")
def compile_last_performed(node: LastPerformedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """A date condition on the time of the most recent matching event."""
    spec = node.last_performed
    e = ctx.alias("e")
    rows = matching_events(ctx, Performed(event=spec.event, where=spec.where), e)
    latest = exp.Max(this=exp.column("timestamp", e))
    value: Any = spec.value  # an instant or a window: validated with the definition
    if spec.op == "before":
        test: exp.Expr = latest < instant_param(ctx, value)
    elif spec.op == "after":
        test = latest > instant_param(ctx, value)
    else:
        test = bounds_sql(ctx, latest, value.bounds(ctx.now))
    return ctx.profile_id.isin(query=rows.group_by(exp.column("profile_id", e)).having(test))
