"""Each plan node to one SELECT producing its work table (`_pk`, `_pk2`, enrichment)."""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.sql.build import all_of, eq, number, query
from clarion.audiences.sql.context import compile_node
from clarion.audiences.sql.params import Params
from clarion.model.audience_nodes import InAudience, InAudienceNode
from clarion.orchestrated import plan as p
from clarion.orchestrated.sql.base import (
    Compilation,
    R,
    W,
    key_columns,
    order_terms,
    row_join,
    select_columns,
    with_joins,
    work_columns,
)
from clarion.orchestrated.sql.enrich import compile_enrich
from clarion.orchestrated.sql.recipients import compile_recipients


def _same_row(alias: str, columns: p.Columns) -> exp.Expr:
    return all_of(*(eq(exp.column(k, alias), exp.column(k, W)) for k in key_columns(columns)))


def _exists_in(c: Compilation, key: str, columns: p.Columns, alias: str) -> exp.Expr:
    found = query([number(1)], c.work_table(key, alias), where=[_same_row(alias, columns)])
    return exp.Exists(this=found)


def scan(c: Compilation, node: p.Scan, step: p.Step, params: Params) -> exp.Select:
    """Build audience: the dimension's rows matching the filter."""
    entity = c.catalog.entity(node.dimension)
    ctx = c.context(params, entity, None, step.columns)
    where: list[exp.Expr] = []
    if entity.is_profiles:
        where.append(eq(exp.column("workspace_id", R), ctx.workspace))
        source: exp.Expr = exp.Table(
            this=exp.to_identifier("profiles"), alias=exp.TableAlias(this=exp.to_identifier(R))
        )
    else:
        source = ctx.source(entity.table, R)
    if node.filter is not None:
        where.append(compile_node(node.filter, f"{step.activity}.filter", ctx))
    if node.audience is not None:
        member = InAudienceNode(in_audience=InAudience(name=node.audience))
        where.append(compile_node(member, f"{step.activity}.audience", ctx))
    select = query([exp.alias_(ctx.key(), "_pk", copy=False)], source, where=where)
    return with_joins(select, ctx, None)


def _over_rows(
    c: Compilation, step: p.Step, source: str, params: Params
) -> tuple[exp.Select, object]:
    entity = c.catalog.entity(step.columns.dimension)
    ctx = c.context(params, entity, W, step.columns)
    select = query(select_columns(work_columns(step.columns)), c.work_table(source, W))
    return select, ctx


def segment(c: Compilation, node: p.Segment, step: p.Step, params: Params) -> exp.Select:
    """A split's subset: filter, not taken before, then the limit by an ordering."""
    entity = c.catalog.entity(step.columns.dimension)
    ctx = c.context(params, entity, W, step.columns)
    where: list[exp.Expr] = [
        exp.Not(this=_exists_in(c, k, step.columns, f"s{i}")) for i, k in enumerate(node.before)
    ]
    if node.filter is not None:
        where.append(compile_node(node.filter, f"{step.key}.filter", ctx))
    names = work_columns(step.columns)
    extra: list[exp.Expr] = []
    if node.limit is not None:
        if node.order_by:
            terms = order_terms(ctx, node.order_by, step.columns)
        else:
            key: exp.Expr = exp.column("_pk", W)
            if step.columns.secondary:
                key = exp.DPipe(
                    this=exp.DPipe(
                        this=c.engine.as_text(key), expression=exp.Literal.string("|"), safe=True
                    ),
                    expression=c.engine.as_text(exp.column("_pk2", W)),
                    safe=True,
                )
            hashed = c.engine.stable_hash(params.add(node.seed), key)
            terms = [exp.Ordered(this=hashed, desc=False, nulls_first=False)]
            terms += order_terms(ctx, (), step.columns)
        window = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=terms))
        extra = [exp.alias_(window, "_rn", copy=False)]
        if node.limit.percent is not None:
            total = exp.Window(this=exp.Count(this=exp.Star()))
            extra.append(exp.alias_(total, "_n", copy=False))
    inner = query([*select_columns(names), *extra], c.work_table(node.source, W), where=where)
    with_joins(inner, ctx, row_join(ctx))
    if node.limit is None:
        return inner
    if node.limit.count is not None:
        keep = exp.LTE(this=exp.column("_rn", "q"), expression=params.add(node.limit.count))
    else:
        basis = round(node.limit.percent * 100)  # type: ignore[operator]
        keep = exp.LTE(
            this=exp.Mul(this=exp.column("_rn", "q"), expression=number(10_000)),
            expression=exp.Mul(this=exp.column("_n", "q"), expression=params.add(basis)),
        )
    sub = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("q")))
    return query(select_columns(names, "q"), sub, where=[keep])


def complement(c: Compilation, node: p.Complement, step: p.Step, params: Params) -> exp.Select:
    """The input's rows in no segment."""
    where = [
        exp.Not(this=_exists_in(c, k, step.columns, f"s{i}")) for i, k in enumerate(node.segments)
    ]
    return query(
        select_columns(work_columns(step.columns)), c.work_table(node.source, W), where=where
    )


def setop(c: Compilation, node: p.SetOp, step: p.Step, params: Params) -> exp.Select:
    """Union (distinct keys), intersection or exclusion (the primary set's rows)."""
    names = work_columns(step.columns)
    if node.operation == "union":
        parts = [query(select_columns(names), c.work_table(k, W)) for k in node.sources]
        union: exp.Expr = parts[0]
        for part in parts[1:]:
            union = exp.Union(this=union, expression=part, distinct=True)
        sub = exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("u")))
        return query(select_columns(names, "u"), sub)
    tests = [_exists_in(c, k, step.columns, f"o{i}") for i, k in enumerate(node.sources[1:])]
    if node.operation == "exclusion":
        tests = [exp.Not(this=t) for t in tests]
    return query(select_columns(names), c.work_table(node.sources[0], W), where=tests)


def dedup(c: Compilation, node: p.Dedup, step: p.Step, params: Params) -> exp.Select:
    """At most `count` rows per key, first by the ordering (completed by the key)."""
    from clarion.orchestrated.checks import resolve_column

    entity = c.catalog.entity(step.columns.dimension)
    ctx = c.context(params, entity, W, step.columns)
    keys: list[exp.Expr] = []
    for path in node.keys:
        found, _kind = resolve_column(ctx.schema, entity.name, ctx.enriched, path)
        if found is None:
            keys.append(exp.column(path, W))
        else:
            assert found.column is not None
            keys.append(exp.column(found.column, ctx.walk(found.links)))
    terms = order_terms(ctx, node.order_by, step.columns, flip=node.keep_last)
    window = exp.Window(this=exp.RowNumber(), partition_by=keys, order=exp.Order(expressions=terms))
    names = work_columns(step.columns)
    inner = query(
        [*select_columns(names), exp.alias_(window, "_rn", copy=False)],
        c.work_table(node.source, W),
    )
    with_joins(inner, ctx, row_join(ctx))
    sub = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("q")))
    keep = exp.LTE(this=exp.column("_rn", "q"), expression=params.add(node.count))
    return query(select_columns(names, "q"), sub, where=[keep])


def change_dimension(
    c: Compilation, node: p.ChangeDimension, step: p.Step, params: Params
) -> exp.Select:
    """The distinct rows of the other dimension reached through the link."""
    source = c.plan.step(node.source).columns
    entity = c.catalog.entity(source.dimension)
    ctx = c.context(params, entity, W, source)
    link = entity.links[node.link]
    target = c.catalog.entity(link.target)
    if not link.many:
        alias = ctx.walk((link,))
        key = exp.column(target.primary_key, alias)
    else:
        from clarion.orchestrated.sql.filters import linked_rows

        inner, rows, pointer, filters = linked_rows(ctx, link, [])
        pairs = query(
            [
                exp.alias_(pointer, "k", copy=False),
                exp.alias_(exp.column(target.primary_key, inner.row), "v", copy=False),
            ],
            rows,
            where=filters,
        )
        for item, cond in inner.joins.items:
            pairs.append("joins", exp.Join(this=item, on=cond, side="LEFT"))
        alias = ctx.alias("cd")
        sub = exp.Subquery(this=pairs, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        ctx.joins.items.append((sub, eq(exp.column("k", alias), ctx.key())))
        key = exp.column("v", alias)
    select = query(
        [exp.alias_(key, "_pk", copy=False)],
        c.work_table(node.source, W),
        where=[exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null()))],
    )
    select.set("distinct", exp.Distinct())
    return with_joins(select, ctx, row_join(ctx))


def passthrough(c: Compilation, node: p.Pass, step: p.Step, params: Params) -> exp.Select:
    """The input unchanged."""
    return query(select_columns(work_columns(step.columns)), c.work_table(node.source, W))


COMPILERS = {
    p.Scan: scan,
    p.Segment: segment,
    p.Complement: complement,
    p.SetOp: setop,
    p.Dedup: dedup,
    p.ChangeDimension: change_dimension,
    p.Pass: passthrough,
    p.Enrich: compile_enrich,
    p.Recipients: compile_recipients,
}


def compile_step(c: Compilation, step: p.Step) -> tuple[exp.Select, Params]:
    """The SELECT of one step's working set, and its bound parameters."""
    params = Params()
    select = COMPILERS[type(step.node)](c, step.node, step, params)  # type: ignore[operator]
    return select, params
