"""Expression builders that never copy their operands.

sqlglot's fluent methods (`a.eq(b)`, `select().where()`, `Case().when()`,
`exp.and_`) deep-copy what they are given, which made compiling a definition
quadratic in its size. The compiler builds every node once, so it can link
operands directly; a subtree used twice is copied explicitly (`.copy()`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp


def eq(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left = right`."""
    return exp.EQ(this=left, expression=right)


def neq(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left <> right`."""
    return exp.NEQ(this=left, expression=right)


def lt(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left < right`."""
    return exp.LT(this=left, expression=right)


def lte(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left <= right`."""
    return exp.LTE(this=left, expression=right)


def gt(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left > right`."""
    return exp.GT(this=left, expression=right)


def gte(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`left >= right`."""
    return exp.GTE(this=left, expression=right)


def one_of(value: exp.Expr, options: Sequence[exp.Expr]) -> exp.Expr:
    """`value IN (options...)`."""
    return exp.In(this=value, expressions=list(options))


def in_query(value: exp.Expr, query: exp.Select) -> exp.Expr:
    """`value IN (SELECT ...)`."""
    return exp.In(this=value, query=exp.Subquery(this=query))


def all_of(*parts: exp.Expr) -> exp.Expr:
    """Conjunction (TRUE when empty)."""
    return exp.and_(*parts, copy=False) if parts else exp.true()


def any_of(*parts: exp.Expr) -> exp.Expr:
    """Disjunction (FALSE when empty)."""
    return exp.or_(*parts, copy=False) if parts else exp.false()


def negate(part: exp.Expr) -> exp.Expr:
    """`NOT (part)`."""
    return exp.Not(this=exp.Paren(this=part))


def when(condition: exp.Expr, then: exp.Expr, otherwise: exp.Expr | None = None) -> exp.Expr:
    """`CASE WHEN condition THEN then [ELSE otherwise] END`."""
    return cases([(condition, then)], otherwise)


def cases(
    branches: Sequence[tuple[exp.Expr, exp.Expr]], otherwise: exp.Expr | None = None
) -> exp.Expr:
    """`CASE WHEN ... THEN ... [...] [ELSE ...] END`."""
    ifs = [exp.If(this=condition, true=then) for condition, then in branches]
    return exp.Case(ifs=ifs, default=otherwise)


_TYPES = {
    "BIGINT": exp.DataType.Type.BIGINT,
    "INT": exp.DataType.Type.INT,
    "DOUBLE": exp.DataType.Type.DOUBLE,
    "BOOLEAN": exp.DataType.Type.BOOLEAN,
    "TEXT": exp.DataType.Type.TEXT,
}


def cast(value: exp.Expr, to: str) -> exp.Expr:
    """`CAST(value AS to)` for the few types the compiler casts to (no type parsing)."""
    return exp.Cast(this=value, to=exp.DataType(this=_TYPES[to], nested=False))


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A plain function call."""
    return exp.Anonymous(this=name, expressions=list(args))


def text(value: str) -> exp.Expr:
    """An internal string constant of the compiler (never a value from a definition)."""
    return exp.Literal.string(value)


def number(value: int) -> exp.Expr:
    """An internal integer constant of the compiler."""
    return exp.Literal.number(value)


def table(name: str, alias: str) -> exp.Expr:
    """`name AS alias`."""
    return exp.Table(
        this=exp.to_identifier(name), alias=exp.TableAlias(this=exp.to_identifier(alias))
    )


def query(
    columns: Sequence[exp.Expr],
    source: exp.Expr | None = None,
    *,
    where: Sequence[exp.Expr] = (),
    joins: Sequence[tuple[exp.Expr, exp.Expr]] = (),
    group_by: Sequence[exp.Expr] = (),
    having: exp.Expr | None = None,
) -> exp.Select:
    """`SELECT columns [FROM source [JOIN ... ON ...]] [WHERE ...] [GROUP BY ...] [HAVING ...]`."""
    return exp.Select(
        expressions=list(columns),
        from_=exp.From(this=source) if source is not None else None,
        joins=[exp.Join(this=other, on=on) for other, on in joins] or None,
        where=exp.Where(this=all_of(*where)) if where else None,
        group=exp.Group(expressions=list(group_by)) if group_by else None,
        having=exp.Having(this=having) if having is not None else None,
    )
