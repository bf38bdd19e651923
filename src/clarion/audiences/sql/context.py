"""What SQL node compilers share: dialect, parameters, `now`, resolver, aliases."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from clarion.audiences.registry import CompilerRegistry
from clarion.audiences.resolver import Resolver
from clarion.audiences.sql.build import query
from clarion.audiences.sql.dialects import SqlDialect
from clarion.audiences.sql.params import Params
from clarion.model.audience_nodes import NodeBase

PROFILE = "p"
"""The alias of the `profiles` row being tested."""


@dataclass(frozen=True)
class SqlContext:
    """One compilation: every node compiler adds its parameters to the same `Params`."""

    dialect: SqlDialect
    params: Params
    workspace_id: str
    now: int
    resolver: Resolver
    stack: tuple[str, ...] = ()
    _aliases: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def workspace(self) -> exp.Expr:
        """The bound workspace id."""
        return self.params.named("ws", self.workspace_id)

    @property
    def now_param(self) -> exp.Expr:
        """The bound `now` (µs): never CURRENT_TIMESTAMP."""
        return self.params.named("now", self.now)

    def alias(self, prefix: str) -> str:
        """A table alias unique within the query."""
        return f"{prefix}{next(self._aliases)}"

    def inside(self, audience: str) -> SqlContext:
        """The context for an inlined audience's definition."""
        return replace(self, stack=(*self.stack, audience))

    @property
    def profile_id(self) -> exp.Expr:
        """The id of the profile being tested."""
        return exp.column("id", PROFILE)

    @property
    def traits(self) -> exp.Expr:
        """The traits of the profile being tested."""
        return exp.column("traits", PROFILE)


SqlCompiler = Callable[[Any, str, SqlContext], exp.Expr]
SQL_COMPILERS: CompilerRegistry[SqlCompiler] = CompilerRegistry("SQL")
"""Node kind -> its SQL compiler: a boolean expression over the profile row `p`,
never NULL (so that NOT means "not")."""


def compile_node(node: NodeBase, path: str, ctx: SqlContext) -> exp.Expr:
    """Compile one node (and its subtree) to a two-valued predicate."""
    return SQL_COMPILERS.compiler(node, path)(node, path, ctx)


def atom(predicate: exp.Expr) -> exp.Expr:
    """A comparison made two-valued: NULL (missing, wrong type) counts as false."""
    return exp.Coalesce(this=predicate, expressions=[exp.false()])


def let(ctx: SqlContext, value: exp.Expr, body: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """`body` over `value` computed once: `(SELECT body(v.x) FROM (SELECT value AS x) AS v)`.

    Date parsing reads one string many times; binding it keeps the SQL text
    linear in the definition instead of repeating the JSON extraction.
    """
    alias = ctx.alias("v")
    bound = exp.Subquery(
        this=query([exp.alias_(value, "x", copy=False)]),
        alias=exp.TableAlias(this=exp.to_identifier(alias)),
    )
    return exp.Subquery(this=query([body(exp.column("x", alias))], bound))
