"""Run compiled audiences: members and exact counts, on SQLAlchemy or DuckDB connections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
from sqlalchemy import Connection

from clarion.audiences.resolver import NO_REFERENCES, Resolver
from clarion.audiences.sql.compiler import CompiledSql, compile_sql, count_sql
from clarion.model.audience import Definition


def _compiled(
    dialect: str, definition: Definition, workspace_id: str, now: datetime | int, resolver: Resolver
) -> CompiledSql:
    return compile_sql(definition, dialect, workspace_id, now, resolver)


def members(
    conn: Connection,
    definition: Definition,
    *,
    workspace_id: str,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> list[str]:
    """The members' profile ids, sorted, on a SQLite or PostgreSQL connection."""
    compiled = _compiled(conn.dialect.name, definition, workspace_id, now, resolver)
    rows = conn.exec_driver_sql(compiled.sql, compiled.params)
    return sorted(row[0] for row in rows)


def count(
    conn: Connection,
    definition: Definition,
    *,
    workspace_id: str,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> int:
    """The exact number of members, on a SQLite or PostgreSQL connection."""
    compiled = _compiled(conn.dialect.name, definition, workspace_id, now, resolver)
    found: Any = conn.exec_driver_sql(count_sql(compiled), compiled.params).scalar_one()
    return int(found)


def duckdb_members(
    con: duckdb.DuckDBPyConnection,
    definition: Definition,
    *,
    workspace_id: str,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> list[str]:
    """The members' profile ids, sorted, on a DuckDB connection."""
    compiled = _compiled("duckdb", definition, workspace_id, now, resolver)
    return sorted(row[0] for row in con.execute(compiled.sql, compiled.params).fetchall())


def duckdb_count(
    con: duckdb.DuckDBPyConnection,
    definition: Definition,
    *,
    workspace_id: str,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> int:
    """The exact number of members, on a DuckDB connection."""
    compiled = _compiled("duckdb", definition, workspace_id, now, resolver)
    row = con.execute(count_sql(compiled), compiled.params).fetchone()
    assert row is not None
    return int(row[0])
