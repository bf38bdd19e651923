"""A channel activity's recipients as message intents, a numbered chunk at a time.

Recipients are numbered once (`_seq`, in key order) into a table of the run, so
sending resumes at a cursor. Each intent's source names the canvas, the run, the
activity and the row (`row_key`: the primary key, and the secondary key for one
message per booking): a chunk sent twice queues nothing twice. `row` holds the
row's attributes, its enrichment, and the rows its many-to-one links reach
(`{{ row.hotel.name }}`); the secondary dimension's row sits under its link's name.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from clarion.audiences.sql.build import all_of, eq, query, table
from clarion.audiences.sql.params import Params
from clarion.model.messages import Category, MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind
from clarion.orchestrated.catalog import Catalog, Entity
from clarion.orchestrated.executor import Executor, jsonable
from clarion.orchestrated.sql.base import key_columns

N = "n"


def number_recipients(executor: Executor, key: str, name: str) -> int:
    """Create the numbered recipients table `name`; its row count."""
    step = executor.plan.step(key)
    keys = key_columns(step.columns)
    order = exp.Order(
        expressions=[exp.Ordered(this=exp.column(k, "e"), nulls_first=False) for k in keys]
    )
    rank = exp.Window(this=exp.RowNumber(), order=order)
    source = executor.source.table_of(executor.tables[key], "e")
    select = query([exp.Star(), exp.alias_(rank, "_seq", copy=False)], source)
    executor.source.create_table(name, executor.source.engine.generate(select), {})
    return executor.count_table(name)


def _entity_columns(entity: Entity, alias: str, prefix: str) -> list[exp.Expr]:
    names = ["id", "traits"] if entity.is_profiles else list(entity.attributes)
    return [exp.alias_(exp.column(a, alias), f"{prefix}{a}", copy=False) for a in names]


def chunk_rows(
    executor: Executor, key: str, numbered: str, after: int, size: int
) -> list[dict[str, Any]]:
    """Rows `after < _seq <= after + size` of a channel's recipients, with their payload."""
    step = executor.plan.step(key)
    catalog: Catalog = executor.catalog
    entity = catalog.entity(step.columns.dimension)
    source_key = step.node.inputs[0]
    work = executor.tables[executor.plan.table_of(source_key)]
    t = executor.source.table_of
    columns: list[exp.Expr] = [
        exp.column("_seq", N),
        exp.column("_profile_id", N),
        *(exp.column(k, N) for k in key_columns(step.columns)),
        *(exp.column(name, "w") for name, _ in step.columns.enriched),
    ]
    joins: list[tuple[exp.Expr, exp.Expr, str | None]] = [
        (
            t(work, "w"),
            all_of(*(eq(exp.column(k, "w"), exp.column(k, N)) for k in key_columns(step.columns))),
            None,
        ),
    ]
    if entity.is_profiles:
        columns.append(exp.alias_(exp.column("_pk", N), "row.id", copy=False))
    else:
        columns += _entity_columns(entity, "r", "row.")
        joins.append(
            (
                t(entity.table, "r"),
                eq(exp.column(entity.primary_key, "r"), exp.column("_pk", N)),
                None,
            )
        )
        for i, link in enumerate(entity.links.values()):
            target = catalog.entity(link.target)
            if link.many or target.is_profiles:
                continue
            alias = f"l{i}"
            columns += _entity_columns(target, alias, f"row.{link.name}.")
            joins.append(
                (
                    t(target.table, alias),
                    eq(exp.column(target.primary_key, alias), exp.column(link.column, "r")),
                    "LEFT",
                )
            )
    if step.columns.secondary_entity is not None:
        second = catalog.entity(step.columns.secondary_entity)
        columns += _entity_columns(second, "s2", f"row.{step.columns.secondary}.")
        joins.append(
            (
                t(second.table, "s2"),
                eq(exp.column(second.primary_key, "s2"), exp.column("_pk2", N)),
                None,
            )
        )
    params = Params()
    select = query(
        columns,
        t(numbered, N),
        where=[
            exp.GT(this=exp.column("_seq", N), expression=params.add(after)),
            exp.LTE(this=exp.column("_seq", N), expression=params.add(after + size)),
        ],
    )
    for item, on, side in joins:
        select.append("joins", exp.Join(this=item, on=on, side=side))
    select.set("order", exp.Order(expressions=[exp.Ordered(this=exp.column("_seq", N))]))
    names, rows = executor.source.fetch(executor.source.engine.generate(select), params.values)
    out = []
    for values in rows:
        record = dict(zip(names, values, strict=True))
        row: dict[str, Any] = {}
        for name, value in record.items():
            if name.startswith("row."):
                parts = name[4:].split(".")
                slot = row
                for part in parts[:-1]:
                    slot = slot.setdefault(part, {})
                slot[parts[-1]] = jsonable(value)
            elif not name.startswith("_"):
                row[name] = jsonable(value)
        out.append(
            {
                "seq": record["_seq"],
                "profile_id": record["_profile_id"],
                "keys": [record[k] for k in key_columns(step.columns)],
                "row": row,
            }
        )
    return out


def intents_for(
    workspace_id: str,
    canvas: tuple[str, str, int],
    run_id: str,
    activity: Any,
    rows: list[dict[str, Any]],
) -> list[MessageIntent]:
    """One intent per row; the row key is the primary key (and the secondary key)."""
    canvas_id, canvas_name, version = canvas
    intents = []
    for item in rows:
        source = MessageSource(
            kind=SourceKind.CANVAS,
            id=canvas_id,
            name=canvas_name,
            version=version,
            run=run_id,
            node=activity.id,
            row_key="|".join(str(k) for k in item["keys"]),
        )
        intents.append(
            MessageIntent(
                workspace_id=workspace_id,
                channel=activity.type,
                template=activity.template,
                source=source,
                profile_id=item["profile_id"],
                category=Category(activity.category),
                subscription_group=activity.subscription_group,
                row=item["row"],
            )
        )
    return intents


__all__ = ["chunk_rows", "intents_for", "number_recipients", "table"]
