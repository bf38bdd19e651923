"""The `attribute` and `aggregate` nodes in SQL, registered with the audience compiler.

Both compile only inside a canvas (`RowContext`): `attribute` reads a column of
the row, of a row reached through many-to-one links (`hotel.region`), an
enrichment column of the working set, or a trait of the row's profile;
`aggregate` joins the linked rows pre-aggregated per row key (one GROUP BY per
aggregate, LEFT JOINed), so DuckDB and PostgreSQL hash-aggregate once instead
of running a correlated subquery per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from clarion.audiences.errors import NotCompilable
from clarion.audiences.sql.build import all_of, eq, gte, query, table
from clarion.audiences.sql.conditions import condition_sql
from clarion.audiences.sql.context import SQL_COMPILERS, SqlContext, atom
from clarion.model.audience_conditions import Condition
from clarion.model.audience_nodes import AggregateNode, AttributeNode
from clarion.orchestrated.catalog import Link
from clarion.orchestrated.checks import resolve_column
from clarion.orchestrated.sql.context import RowContext
from clarion.orchestrated.sql.typed import typed_condition

_COUNT_OPS = {
    "eq": exp.EQ,
    "ne": exp.NEQ,
    "lt": exp.LT,
    "lte": exp.LTE,
    "gt": exp.GT,
    "gte": exp.GTE,
}


def _canvas(ctx: SqlContext, path: str, kind: str) -> RowContext:
    if not isinstance(ctx, RowContext):
        raise NotCompilable(f"{path}: `{kind}` is for canvases (rows of a relational schema)")
    return ctx


def column_condition(ctx: RowContext, cond: Condition) -> exp.Expr:
    """`cond` on the column its path names (see the module docstring)."""
    step, kind = resolve_column(ctx.schema, ctx.current.name, ctx.enriched, cond.path)
    if step is None:
        assert ctx.work is not None
        return typed_condition(ctx, exp.column(cond.path, ctx.work), kind, cond)
    alias = ctx.walk(step.links)
    if step.trait:
        trait = cond.model_copy(update={"path": ".".join(step.trait)})
        return condition_sql(ctx, exp.column("traits", alias), trait)
    assert step.column is not None
    return typed_condition(ctx, exp.column(step.column, alias), kind, cond)


@SQL_COMPILERS.register("attribute")
def compile_attribute(node: AttributeNode, path: str, ctx: SqlContext) -> exp.Expr:
    """A condition on a column of the row (see `column_condition`)."""
    return column_condition(_canvas(ctx, path, "attribute"), node.attribute)


def linked_rows(
    ctx: RowContext, link: Link, where: list[Condition], *, through_identity: bool = True
) -> tuple[RowContext, exp.Expr, exp.Expr, list[exp.Expr]]:
    """The rows of a one-to-many link: (their context, FROM, the key they point at, filters).

    The key is what the owning row is matched on: its primary key, or for
    profiles linked through an identity, the profile id that identity belongs to
    (unless `through_identity` is false: then the identity value, for `to_owner`).
    """
    target = ctx.schema.entity(link.target)
    alias = ctx.alias("t")
    inner = ctx.for_entity(target, alias)
    filters = [column_condition(inner, c) for c in where]
    pointer: exp.Expr = exp.column(link.column, alias)
    source = inner.source(target.table, alias)
    if through_identity and ctx.current.is_profiles and link.namespace is not None:
        ident = ctx.alias("ti")
        inner.joins.items.insert(
            0,
            (
                table("identities", ident),
                all_of(
                    eq(exp.column("workspace_id", ident), ctx.workspace),
                    eq(exp.column("namespace", ident), ctx.params.add(link.namespace)),
                    eq(exp.column("value", ident), ctx.engine.as_text(pointer)),
                ),
            ),
        )
        pointer = exp.column("profile_id", ident)
        filters.append(exp.Not(this=exp.Is(this=pointer.copy(), expression=exp.Null())))
    return inner, source, pointer, filters


def grouped(
    inner: RowContext, source: exp.Expr, key: exp.Expr, columns: list[exp.Expr], filters: list[Any]
) -> exp.Select:
    """`SELECT key AS k, columns FROM source [joins] WHERE filters GROUP BY key`."""
    select = query(
        [exp.alias_(key, "k", copy=False), *columns],
        source,
        where=filters,
        group_by=[key.copy()],
    )
    for item, on in inner.joins.items:
        select.append("joins", exp.Join(this=item, on=on, side="LEFT"))
    return select


def to_owner(
    ctx: RowContext, link: Link, select: exp.Select, keep: list[str], again: dict[str, Any]
) -> tuple[exp.Select | None, str | None]:
    """Grouped rows keyed by identity value (`k`) re-grouped by the profile owning it.

    Grouping the linked rows by their own column first and mapping the (far
    fewer) groups through `identities` afterwards is what keeps 10,000,000
    bookings fast: the identity join sees one row per customer, not per booking.
    `again` says how each value column combines (SUM of counts and sums, MIN, MAX).
    Returns the re-grouping query and the alias it reads `select` under, or
    (None, None) when the link needs no identity.
    """
    if not (ctx.current.is_profiles and link.namespace is not None):
        return None, None
    a, i = ctx.alias("ga"), ctx.alias("gi")
    owner = exp.column("profile_id", i)
    on = all_of(
        eq(exp.column("workspace_id", i), ctx.workspace),
        eq(exp.column("namespace", i), ctx.params.add(link.namespace)),
        eq(exp.column("value", i), ctx.engine.as_text(exp.column("k", a))),
    )
    columns: list[exp.Expr] = [
        exp.alias_(owner, "k", copy=False),
        *(exp.column(n, a) for n in keep),
        *(exp.alias_(fn(this=exp.column(n, a)), n, copy=False) for n, fn in again.items()),
    ]
    sub = exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(a)))
    regrouped = query(
        columns,
        sub,
        joins=[(table("identities", i), on)],
        group_by=[owner.copy(), *(exp.column(n, a) for n in keep)],
    )
    return regrouped, a


@dataclass
class _Shared:
    """One aggregate subquery over a link's rows, shared by every aggregate with its `where`."""

    alias: str
    inner: RowContext
    grouped: exp.Select
    owner: exp.Select | None
    owner_source: str | None
    columns: int = 0


def _aggregate_column(ctx: RowContext, shared: _Shared, function: str, path: str | None) -> str:
    """Add one aggregate column to the shared subquery; its name there."""
    inner = shared.inner
    if function in ("count", "exists"):
        value: exp.Expr = exp.Count(this=exp.Star())
    else:
        assert path is not None
        step, _kind = resolve_column(inner.schema, inner.current.name, {}, path)
        assert step is not None and step.column is not None
        column = exp.column(step.column, inner.walk(step.links))
        value = {"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[function](this=column)
    name = f"v{shared.columns}"
    shared.columns += 1
    shared.grouped.append("expressions", exp.alias_(value, name, copy=False))
    if shared.owner is not None:
        again = exp.Sum if function in ("count", "exists", "sum") else type(value)
        combined = again(this=exp.column(name, shared.owner_source))
        shared.owner.append("expressions", exp.alias_(combined, name, copy=False))
    return name


def _shared(ctx: RowContext, link_name: str, where: list[Condition]) -> _Shared:
    key = f"{link_name}|{[c.model_dump_json() for c in where]}"
    found = ctx.joins.aggregates.get(key)
    if isinstance(found, _Shared):
        return found
    link = ctx.current.links[link_name]
    inner, source, pointer, filters = linked_rows(ctx, link, where, through_identity=False)
    select = grouped(inner, source, pointer, [], filters)
    owner, owner_source = to_owner(ctx, link, select, [], {})
    alias = ctx.alias("ag")
    ctx.join(
        f"#agg{alias}",
        exp.Subquery(
            this=owner if owner is not None else select,
            alias=exp.TableAlias(this=exp.to_identifier(alias)),
        ),
        eq(exp.column("k", alias), exp.column(ctx.current.primary_key, ctx.row)),
    )
    shared = _Shared(alias, inner, select, owner, owner_source)
    ctx.joins.aggregates[key] = shared
    return shared


def aggregate_value(
    ctx: RowContext, link_name: str, function: str, path: str | None, where: list[Condition]
) -> exp.Expr:
    """The aggregate per row, LEFT JOINed: COUNT/SUM default to 0, MIN/MAX to NULL.

    Aggregates over the same link and `where` share one subquery (one pass).
    """
    shared = _shared(ctx, link_name, where)
    found: exp.Expr = exp.column(_aggregate_column(ctx, shared, function, path), shared.alias)
    if function in ("count", "exists"):  # a SUM of counts is NUMERIC on PostgreSQL
        found = exp.Cast(this=found, to=exp.DataType.build("BIGINT"))
    if function in ("count", "exists", "sum"):
        return exp.Coalesce(this=found, expressions=[exp.Literal.number(0)])
    return found


@SQL_COMPILERS.register("aggregate")
def compile_aggregate(node: AggregateNode, path: str, ctx: SqlContext) -> exp.Expr:
    """count / sum / min / max / exists over a one-to-many link, compared."""
    row = _canvas(ctx, path, "aggregate")
    spec = node.aggregate
    value = aggregate_value(row, spec.link, spec.function, spec.path, list(spec.where))
    if spec.function == "exists":
        return atom(gte(value, exp.Literal.number(1)))
    assert spec.op is not None and spec.value is not None
    compare = _COUNT_OPS[spec.op](this=value, expression=row.params.number(spec.value))
    return atom(compare)
