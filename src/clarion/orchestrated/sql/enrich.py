"""Enrich: columns through links, aggregates, the top values of linked rows, and a
secondary dimension (one row per linked row)."""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.sql.build import cases, eq, gte, number, query
from clarion.audiences.sql.context import compile_node
from clarion.audiences.sql.params import Params
from clarion.orchestrated import plan as p
from clarion.orchestrated.canvas import EnrichColumn
from clarion.orchestrated.checks import resolve_column
from clarion.orchestrated.enrichment import top_names, top_where
from clarion.orchestrated.sql.base import (
    Compilation,
    W,
    row_join,
    select_columns,
    with_joins,
    work_columns,
)
from clarion.orchestrated.sql.context import RowContext
from clarion.orchestrated.sql.filters import aggregate_value, linked_rows, to_owner


def _subquery(select: exp.Select, alias: str) -> exp.Expr:
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _linked_column(inner: RowContext, path: str) -> tuple[exp.Expr, str]:
    step, kind = resolve_column(inner.schema, inner.current.name, {}, path)
    assert step is not None and step.column is not None
    return exp.column(step.column, inner.walk(step.links)), kind


def top_values(ctx: RowContext, column: EnrichColumn) -> list[tuple[str, exp.Expr]]:
    """The N best values of a linked column per row (by count, sum or max; ties by value)."""
    top = column.top
    assert top is not None
    link = ctx.current.links[top.link]
    inner, rows, pointer, filters = linked_rows(ctx, link, top_where(top), through_identity=False)
    value, kind = _linked_column(inner, top.path)
    if top.by == "count":
        score: exp.Expr = exp.Count(this=exp.Star())
    else:
        assert top.of is not None
        of, _ = _linked_column(inner, top.of)
        score = exp.Sum(this=of) if top.by == "sum" else exp.Max(this=of)
    filters.append(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))
    grouped = query(
        [
            exp.alias_(pointer, "k", copy=False),
            exp.alias_(value, "v", copy=False),
            exp.alias_(score, "s", copy=False),
        ],
        rows,
        where=filters,
        group_by=[pointer.copy(), value.copy()],
    )
    for item, on in inner.joins.items:
        grouped.append("joins", exp.Join(this=item, on=on, side="LEFT"))
    owner, _source = to_owner(
        ctx, link, grouped, ["v"], {"s": exp.Max if top.by == "max" else exp.Sum}
    )
    grouped = owner if owner is not None else grouped
    tie: exp.Expr = exp.column("v", "g")
    if kind == "string":
        tie = ctx.engine.ordered(tie)
    order = exp.Order(
        expressions=[
            exp.Ordered(this=exp.column("s", "g"), desc=True, nulls_first=False),
            exp.Ordered(this=tie, desc=False, nulls_first=False),
        ]
    )
    rank = exp.Window(this=exp.RowNumber(), partition_by=[exp.column("k", "g")], order=order)
    ranked = query(
        [exp.column("k", "g"), exp.column("v", "g"), exp.alias_(rank, "rn", copy=False)],
        _subquery(grouped, "g"),
    )
    names = top_names(column)
    pivot = query(
        [
            exp.column("k", "rk"),
            *(
                exp.alias_(
                    exp.Max(
                        this=cases([(eq(exp.column("rn", "rk"), number(i)), exp.column("v", "rk"))])
                    ),
                    f"v{i}",
                    copy=False,
                )
                for i in range(1, len(names) + 1)
            ),
        ],
        _subquery(ranked, "rk"),
        where=[exp.LTE(this=exp.column("rn", "rk"), expression=number(len(names)))],
        group_by=[exp.column("k", "rk")],
    )
    alias = ctx.alias("tv")
    ctx.join(f"#top{alias}", _subquery(pivot, alias), eq(exp.column("k", alias), ctx.key()))
    return [(name, exp.column(f"v{i}", alias)) for i, name in enumerate(names, 1)]


def _new_columns(ctx: RowContext, column: EnrichColumn) -> list[tuple[str, exp.Expr]]:
    if column.path is not None:
        step, _kind = resolve_column(ctx.schema, ctx.current.name, ctx.enriched, column.path)
        if step is None:
            return [(column.name, exp.column(column.path, W))]
        assert step.column is not None
        return [(column.name, exp.column(step.column, ctx.walk(step.links)))]
    if column.aggregate is not None:
        spec = column.aggregate
        value = aggregate_value(ctx, spec.link, spec.function, spec.path, list(spec.where))
        if spec.function == "exists":
            value = gte(value, number(1))
        return [(column.name, value)]
    return top_values(ctx, column)


def compile_enrich(c: Compilation, node: p.Enrich, step: p.Step, params: Params) -> exp.Select:
    """The input's columns, the new ones, and `_pk2` for a new secondary dimension."""
    before = c.plan.step(node.source).columns
    entity = c.catalog.entity(before.dimension)
    ctx = c.context(params, entity, W, before)
    exprs: dict[str, exp.Expr] = {n: exp.column(n, W) for n in work_columns(before)}
    for column in node.columns:
        exprs.update(_new_columns(ctx, column))
    where: list[exp.Expr] = []
    if node.secondary is not None:
        link = entity.links[node.secondary]
        inner, rows, pointer, filters = linked_rows(ctx, link, [])
        if node.secondary_filter is not None:
            filters.append(compile_node(node.secondary_filter, f"{step.key}.secondary", inner))
        target = c.catalog.entity(link.target)
        pairs = query(
            [
                exp.alias_(pointer, "k", copy=False),
                exp.alias_(exp.column(target.primary_key, inner.row), "v", copy=False),
            ],
            rows,
            where=filters,
        )
        for item, on in inner.joins.items:
            pairs.append("joins", exp.Join(this=item, on=on, side="LEFT"))
        alias = ctx.alias("sd")
        ctx.joins.items.append((_subquery(pairs, alias), eq(exp.column("k", alias), ctx.key())))
        exprs["_pk2"] = exp.column("v", alias)
        where.append(exp.Not(this=exp.Is(this=exp.column("v", alias), expression=exp.Null())))
    names = work_columns(step.columns)
    select = query(
        [exp.alias_(exprs[n], n, copy=False) for n in names],
        c.work_table(node.source, W),
        where=where,
    )
    return with_joins(select, ctx, row_join(ctx))


__all__ = ["compile_enrich", "select_columns", "top_values"]
