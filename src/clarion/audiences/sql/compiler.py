"""Compile a definition to one SQL query: the ids of the matching profiles of a workspace.

    SELECT p.id AS profile_id FROM profiles AS p
    WHERE p.workspace_id = :ws AND <the definition's predicate>

Every value of the definition, the workspace id and `now` are bound
parameters; the SQL text holds only the compiler's own constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from clarion.audiences.resolver import NO_REFERENCES, Resolver
from clarion.audiences.sql import events, logic, profile_nodes  # noqa: F401 - registration
from clarion.audiences.sql.build import eq, query, table
from clarion.audiences.sql.context import PROFILE, SqlContext, compile_node
from clarion.audiences.sql.dialects import SqlDialect, dialect_named
from clarion.audiences.sql.params import Params
from clarion.audiences.time_rules import as_micros
from clarion.model.audience import Definition


@dataclass(frozen=True, slots=True)
class CompiledSql:
    """SQL text in the dialect's own placeholder style, and the values to bind."""

    sql: str
    params: dict[str, Any]
    dialect: str


def compile_select(
    definition: Definition,
    dialect: SqlDialect,
    workspace_id: str,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> tuple[exp.Select, Params]:
    """The query selecting `profile_id`s (a sqlglot tree) and its parameters."""
    params = Params()
    ctx = SqlContext(dialect, params, workspace_id, as_micros(now), resolver)
    predicate = compile_node(definition, "definition", ctx)
    members = query(
        [exp.alias_(exp.column("id", PROFILE), "profile_id", copy=False)],
        table("profiles", PROFILE),
        where=[eq(exp.column("workspace_id", PROFILE), ctx.workspace), predicate],
    )
    return members, params


def compile_sql(
    definition: Definition,
    dialect: str,
    workspace_id: str,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> CompiledSql:
    """The SQL selecting the members' `profile_id`s for `dialect` (sqlite, postgresql, duckdb).

    Placeholders follow the driver of the dialect: `:name` (sqlite3), `%(name)s`
    (psycopg), `$name` (duckdb).
    """
    target = dialect_named(dialect)
    query, params = compile_select(definition, target, workspace_id, now, resolver)
    return CompiledSql(target.generate(query), params.values, target.name)


def count_sql(compiled: CompiledSql) -> str:
    """Wrap compiled SQL into a count of its rows (a subquery keeps the parameters)."""
    return f"SELECT COUNT(*) FROM ({compiled.sql}) AS members"
