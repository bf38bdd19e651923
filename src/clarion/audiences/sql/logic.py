"""Boolean composition and audience membership in SQL."""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.resolver import inline
from clarion.audiences.sql.build import all_of, any_of, eq, in_query, negate, query, table
from clarion.audiences.sql.context import SQL_COMPILERS, SqlContext, compile_node
from clarion.model.audience_nodes import AllNode, AnyNode, InAudienceNode, NotNode


@SQL_COMPILERS.register("all")
def compile_all(node: AllNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Every child holds (TRUE when there is none)."""
    parts = [compile_node(child, f"{path}.all[{i}]", ctx) for i, child in enumerate(node.all)]
    return exp.Paren(this=all_of(*parts))


@SQL_COMPILERS.register("any")
def compile_any(node: AnyNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Some child holds."""
    parts = [compile_node(child, f"{path}.any[{i}]", ctx) for i, child in enumerate(node.any)]
    return exp.Paren(this=any_of(*parts))


@SQL_COMPILERS.register("not")
def compile_not(node: NotNode, path: str, ctx: SqlContext) -> exp.Expr:
    """The child does not hold (children are never NULL, so NOT is exact)."""
    return negate(compile_node(node.not_, f"{path}.not", ctx))


@SQL_COMPILERS.register("in_audience")
def compile_in_audience(node: InAudienceNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Membership of another audience: its definition, inlined; a list audience (uploaded,
    or saved by a canvas) has no definition, so its stored members are read instead."""
    name = node.in_audience.name
    here = f"{path}.in_audience"
    found = ctx.resolver.audience(name)
    if found is not None and found.type == "list":
        return _stored_members(name, ctx)
    definition = inline(ctx.resolver, name, here, ctx.stack)
    return compile_node(definition, f"{here}->{name}.definition", ctx.inside(name))


def _stored_members(name: str, ctx: SqlContext) -> exp.Expr:
    """`p.id IN (the list audience's rows of audience_members)`."""
    m = ctx.alias("m")
    rows = query(
        [exp.column("profile_id", m)],
        table("audience_members", m),
        where=[
            eq(exp.column("workspace_id", m), ctx.workspace),
            eq(exp.column("audience", m), ctx.params.add(name)),
        ],
    )
    return in_query(ctx.profile_id, rows)
