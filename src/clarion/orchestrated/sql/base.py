"""What every step compiler shares: the context factory and the row of a work table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from clarion.audiences.resolver import NO_REFERENCES, Resolver
from clarion.audiences.sql.build import all_of, eq
from clarion.audiences.sql.params import Params
from clarion.orchestrated.canvas import Order
from clarion.orchestrated.catalog import Catalog, Entity
from clarion.orchestrated.plan import Columns, Plan
from clarion.orchestrated.sql.context import RowContext, TableOf
from clarion.orchestrated.sql.dialects import CanvasDialect

W = "w"
"""The alias of the input work table."""
R = "r"
"""The alias of the dimension row."""


@dataclass
class Compilation:
    """One step's compilation: engine, catalog, plan, where work tables live."""

    engine: CanvasDialect
    catalog: Catalog
    plan: Plan
    workspace_id: str
    now_us: int
    work: dict[str, str]
    """Step key -> its work table's name."""
    table_of: TableOf
    resolver: Resolver = NO_REFERENCES

    def context(
        self, params: Params, entity: Entity, work: str | None, columns: Columns
    ) -> RowContext:
        """A fresh `RowContext` on rows of `entity` (alias `r`) over work table alias `w`."""
        return RowContext(
            self.engine.audience,
            params,
            self.workspace_id,
            self.now_us,
            self.resolver,
            canvas=self.engine,
            catalog=self.catalog,
            entity=entity,
            row=R,
            work=work,
            enriched=columns.enrichment(),
            table_of=self.table_of,
        )

    def work_table(self, key: str, alias: str) -> exp.Expr:
        """The FROM item of a step's work table."""
        return self.table_of(self.work[self.plan.table_of(key)], alias)


def key_columns(columns: Columns) -> list[str]:
    """The key columns of a work table: `_pk` and, with a secondary dimension, `_pk2`."""
    return ["_pk", "_pk2"] if columns.secondary else ["_pk"]


def work_columns(columns: Columns) -> list[str]:
    """Every column of a work table."""
    return [*key_columns(columns), *(name for name, _ in columns.enriched)]


def row_join(ctx: RowContext) -> tuple[exp.Expr, exp.Expr]:
    """JOIN the dimension row `r` to the work table row `w`."""
    entity = ctx.current
    if entity.is_profiles:
        on = all_of(
            eq(exp.column("workspace_id", R), ctx.workspace),
            eq(exp.column("id", R), exp.column("_pk", W)),
        )
        return exp.Table(
            this=exp.to_identifier("profiles"), alias=exp.TableAlias(this=exp.to_identifier(R))
        ), on
    return ctx.source(entity.table, R), eq(exp.column(entity.primary_key, R), exp.column("_pk", W))


def with_joins(
    select: exp.Select, ctx: RowContext, first: tuple[exp.Expr, exp.Expr] | None
) -> exp.Select:
    """Add the row join (inner) and the LEFT JOINs the predicates collected."""
    if first is not None:
        select.append("joins", exp.Join(this=first[0], on=first[1]))
    for item, on in ctx.joins.items:
        select.append("joins", exp.Join(this=item, on=on, side="LEFT"))
    return select


def order_terms(
    ctx: RowContext, order_by: tuple[Order, ...], columns: Columns, flip: bool = False
) -> list[exp.Expr]:
    """ORDER BY terms for `order_by`, completed by the primary key (and `_pk2`)."""
    from clarion.orchestrated.checks import resolve_column

    terms: list[exp.Expr] = []
    for order in order_by:
        step, kind = resolve_column(ctx.schema, ctx.current.name, ctx.enriched, order.path)
        if step is None:
            column: exp.Expr = exp.column(order.path, W)
        else:
            assert step.column is not None
            column = exp.column(step.column, ctx.walk(step.links))
        if kind == "string":
            column = ctx.engine.ordered(column)
        desc = (order.direction == "desc") != flip
        terms.append(exp.Ordered(this=column, desc=desc, nulls_first=False))
    for name, kind in zip(key_columns(columns), key_types(ctx.schema, columns), strict=True):
        column = exp.column(name, W)
        if kind == "string":
            column = ctx.engine.ordered(column)
        terms.append(exp.Ordered(this=column, desc=flip, nulls_first=False))
    return terms


def key_types(catalog: Catalog, columns: Columns) -> list[str]:
    """The types of the key columns."""
    entities = [catalog.entity(columns.dimension)]
    if columns.secondary_entity:
        entities.append(catalog.entity(columns.secondary_entity))
    return [e.attributes[e.primary_key] for e in entities]


def select_columns(names: list[str], alias: str = W) -> list[Any]:
    """`alias.name` for each name."""
    return [exp.column(n, alias) for n in names]
