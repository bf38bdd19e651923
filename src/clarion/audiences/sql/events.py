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
from clarion.audiences.sql.build import (
    eq,
    gt,
    gte,
    in_query,
    lt,
    lte,
    negate,
    neq,
    query,
    table,
    text,
)
from clarion.audiences.sql.conditions import condition_sql
from clarion.audiences.sql.context import SQL_COMPILERS, SqlContext
from clarion.audiences.sql.time import bounds_sql, instant_param
from clarion.model.audience_conditions import AT_LEAST_ONCE, CountCondition
from clarion.model.audience_nodes import (
    LastPerformedNode,
    MessageOutcomeNode,
    NotPerformedNode,
    Performed,
    PerformedNode,
)

_COMPARE = {"eq": eq, "ne": neq, "lt": lt, "lte": lte, "gt": gt, "gte": gte}


def _event_filters(ctx: SqlContext, spec: Performed, e: str) -> list[exp.Expr]:
    """The WHERE of the events matching `spec` (window included), alias `e`."""
    filters = [
        eq(ctx.dialect.scanned(exp.column("workspace_id", e)), ctx.workspace),
        exp.Not(this=exp.Is(this=exp.column("profile_id", e), expression=exp.null())),
        eq(exp.column("type", e), text(TRACK)),
        eq(exp.column("event", e), ctx.params.add(spec.event)),
    ]
    filters += [condition_sql(ctx, exp.column("properties", e), c) for c in spec.where]
    if spec.within is not None:
        window = spec.within.bounds(ctx.now)
        filters.append(bounds_sql(ctx, exp.column("timestamp", e), window))
    return filters


def _count(ctx: SqlContext, count: CountCondition) -> exp.Expr:
    return _COMPARE[count.op](exp.Count(this=exp.Star()), ctx.params.add(count.value))


def performed_sql(ctx: SqlContext, spec: Performed) -> exp.Expr:
    """The profile's matching events satisfy the count."""
    e = ctx.alias("e")
    profile_id = exp.column("profile_id", e)
    source = table("events", e)
    filters = _event_filters(ctx, spec, e)
    if spec.count == AT_LEAST_ONCE:
        return in_query(ctx.profile_id, query([profile_id], source, where=filters))
    count = _count(ctx, spec.count)
    if spec.count.holds(0):
        count = negate(count)
    grouped = query([profile_id], source, where=filters, group_by=[profile_id.copy()], having=count)
    found = in_query(ctx.profile_id, grouped)
    return negate(found) if spec.count.holds(0) else found


@SQL_COMPILERS.register("performed")
def compile_performed(node: PerformedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Performed an event `count` times within a window."""
    return performed_sql(ctx, node.performed)


@SQL_COMPILERS.register("not_performed")
def compile_not_performed(node: NotPerformedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Did not perform an event within a window."""
    spec = node.not_performed
    return negate(
        performed_sql(ctx, Performed(event=spec.event, where=spec.where, within=spec.within))
    )


@SQL_COMPILERS.register("message_outcome")
def compile_message_outcome(node: MessageOutcomeNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Sugar over `performed` on `message.<outcome>` events."""
    return performed_sql(ctx, outcome_as_performed(node.message_outcome))


@SQL_COMPILERS.register("last_performed")
def compile_last_performed(node: LastPerformedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """A date condition on the time of the most recent matching event."""
    spec = node.last_performed
    e = ctx.alias("e")
    profile_id = exp.column("profile_id", e)
    latest = exp.Max(this=exp.column("timestamp", e))
    value: Any = spec.value  # an instant or a window: validated with the definition
    if spec.op == "before":
        test = lt(latest, instant_param(ctx, value))
    elif spec.op == "after":
        test = gt(latest, instant_param(ctx, value))
    else:
        test = bounds_sql(ctx, latest, value.bounds(ctx.now))
    filters = _event_filters(ctx, Performed(event=spec.event, where=spec.where), e)
    grouped = query(
        [profile_id], table("events", e), where=filters, group_by=[profile_id.copy()], having=test
    )
    return in_query(ctx.profile_id, grouped)
