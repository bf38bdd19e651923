"""A rewrite pass for PostgreSQL: `NOT (x IN (SELECT k ...))` as `NOT EXISTS`.

PostgreSQL plans `NOT IN (subquery)` as a hashed subplan only when the
subquery's rows fit in `work_mem`; past that (two million closed accounts in
the benchmark) it re-scans a materialised list for every profile, and a count
that takes seconds runs for hours. `NOT EXISTS` becomes an anti-join, hashed or
merged at any size.

The two mean the same here: `x` is a profile id (never NULL) and every subquery
the compiler writes selects non-NULL ids, so `NOT IN` is never UNKNOWN.
"""

from __future__ import annotations

from sqlglot import exp

ALIAS = "anti"
KEY = "k"


def as_anti_join(node: exp.Expr) -> exp.Expr:
    """`node` rewritten when it is `NOT (x IN (SELECT ...))`, else `node` itself."""
    if not isinstance(node, exp.Not):
        return node
    inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
    query = inner.args.get("query") if isinstance(inner, exp.In) else None
    if query is None:
        return node
    subquery = query.this if isinstance(query, exp.Subquery) else query
    rows = exp.Subquery(
        this=subquery,
        alias=exp.TableAlias(this=exp.to_identifier(ALIAS), columns=[exp.to_identifier(KEY)]),
    )
    probe = (
        exp.select(exp.Literal.number(1))
        .from_(rows, copy=False)
        .where(exp.EQ(this=exp.column(KEY, ALIAS), expression=inner.this), copy=False)
    )
    return exp.Not(this=exp.Exists(this=probe))


def anti_joins(tree: exp.Expr) -> exp.Expr:
    """Every `NOT (x IN (SELECT ...))` of `tree` as `NOT EXISTS` (in place)."""
    return tree.transform(as_anti_join, copy=False)
