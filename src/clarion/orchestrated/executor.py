"""Executing a plan on a data source: one work table per step, exact counts, previews.

Work tables are named `wt_<run>_<n>` (the run id's hex, the step's position),
so a resumed run finds what it already made and a run following a calculation
reads the calculation's tables (the same data snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from clarion.audiences.resolver import NO_REFERENCES, Resolver
from clarion.audiences.sql.build import query
from clarion.audiences.sql.params import Params
from clarion.orchestrated import plan as p
from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.sources.base import DataSource
from clarion.orchestrated.sql.base import Compilation, R, W, row_join, select_columns, work_columns
from clarion.orchestrated.sql.steps import compile_step

PREVIEW_ROWS = 10


def work_names(run_id: str, plan: p.Plan) -> dict[str, str]:
    """Step key -> work table name for a run."""
    prefix = "wt_" + run_id.replace("-", "")
    return {step.key: f"{prefix}_{i}" for i, step in enumerate(plan.steps)}


def jsonable(value: Any) -> Any:
    """A cell as JSON: dates and times as ISO 8601 text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass
class Executor:
    """Runs one plan's steps on one source."""

    source: DataSource
    catalog: Catalog
    plan: p.Plan
    workspace_id: str
    now_us: int
    tables: dict[str, str]
    resolver: Resolver = NO_REFERENCES
    counts: dict[str, int] = field(default_factory=dict)

    def compilation(self) -> Compilation:
        """The compilation context of this execution."""
        return Compilation(
            self.source.engine,
            self.catalog,
            self.plan,
            self.workspace_id,
            self.now_us,
            self.tables,
            self.source.table_of,
            self.resolver,
        )

    def sql_of(self, step: p.Step) -> tuple[str, dict[str, Any]]:
        """The SQL text and parameters of one step."""
        select, params = compile_step(self.compilation(), step)
        return self.source.engine.generate(select), params.values

    def materialize(self, reuse: bool = False) -> None:
        """Create every step's work table (skipping existing ones when `reuse`)."""
        for step in self.plan.steps:
            if step.alias_of is not None:
                continue
            name = self.tables[step.key]
            if reuse and self.source.has_table(name):
                continue
            sql, params = self.sql_of(step)
            self.source.create_table(name, sql, params)

    def count_all(self) -> dict[str, int]:
        """The exact row count of every step (aliases share their table's count)."""
        for step in self.plan.steps:
            table = self.tables[self.plan.table_of(step.key)]
            if table not in self.counts:
                self.counts[table] = self.count_table(table)
        return {s.key: self.counts[self.tables[self.plan.table_of(s.key)]] for s in self.plan.steps}

    def count_table(self, name: str) -> int:
        """The number of rows of a table of the source."""
        select = query([exp.Count(this=exp.Star())], self.source.table_of(name, "c"))
        _names, rows = self.source.fetch(self.source.engine.generate(select), {})
        return int(rows[0][0])

    def preview(self, key: str, limit: int = PREVIEW_ROWS) -> list[dict[str, Any]]:
        """The first rows of a working set (by key), with the dimension's attributes.

        The first rows are picked from the work table alone, then joined: a top-N
        over the small table, not over its join with the entity.
        """
        step = self.plan.step(key)
        entity = self.catalog.entity(step.columns.dimension)
        compilation = self.compilation()
        ctx = compilation.context(Params(), entity, W, step.columns)
        attributes = ["id", "traits"] if entity.is_profiles else list(entity.attributes)
        names = work_columns(step.columns)
        keys = [n for n in names if n.startswith("_pk")]
        first = query(select_columns(names, "f"), compilation.work_table(key, "f"))
        first.set(
            "order",
            exp.Order(
                expressions=[exp.Ordered(this=exp.column(k, "f"), nulls_first=False) for k in keys]
            ),
        )
        first.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
        select = query(
            [
                *select_columns(names),
                *(exp.alias_(exp.column(a, R), f"r.{a}", copy=False) for a in attributes),
            ],
            exp.Subquery(this=first, alias=exp.TableAlias(this=exp.to_identifier(W))),
        )
        item, on = row_join(ctx)
        select.append("joins", exp.Join(this=item, on=on))
        select.set(
            "order",
            exp.Order(
                expressions=[exp.Ordered(this=exp.column(k, W), nulls_first=False) for k in keys]
            ),
        )
        columns, rows = self.source.fetch(self.source.engine.generate(select), ctx.params.values)
        out = []
        for row in rows:
            found: dict[str, Any] = {}
            for name, value in zip(columns, row, strict=True):
                if name.startswith("r."):
                    found[name[2:]] = _json_value(value) if name == "r.traits" else jsonable(value)
                else:
                    found[name] = jsonable(value)
            out.append(found)
        return out

    def previews(
        self, keys: list[str], limit: int = PREVIEW_ROWS
    ) -> dict[str, list[dict[str, Any]]]:
        """Previews of several sets; sets sharing a table share one query."""
        by_table: dict[str, list[dict[str, Any]]] = {}
        out = {}
        for key in keys:
            table = self.tables[self.plan.table_of(key)]
            if table not in by_table:
                by_table[table] = self.preview(key, limit)
            out[key] = by_table[table]
        return out


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        import orjson

        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value
