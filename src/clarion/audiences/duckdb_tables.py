"""DuckDB tables shaped like the relational schema's, for batch counts on DuckDB.

Column names and order follow `clarion.storage.schema`; JSON columns are
DuckDB `JSON`, event times BIGINT microseconds, other times TIMESTAMPTZ.
Constraints are left out: the DuckDB copy is filled from the primary store.
"""

from __future__ import annotations

import duckdb
from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Table, Text
from sqlalchemy.types import TypeEngine

from clarion.storage import schema
from clarion.storage.types import UtcDateTime

AUDIENCE_TABLES: tuple[Table, ...] = (
    schema.profiles,
    schema.identities,
    schema.events,
    schema.subscriptions,
    schema.subscription_groups,
    schema.address_subscriptions,
)
"""The tables the audience SQL reads."""


def duckdb_type(column_type: TypeEngine[object]) -> str:
    """The DuckDB type of a schema column."""
    if isinstance(column_type, JSON):
        return "JSON"
    if isinstance(column_type, UtcDateTime):
        return "TIMESTAMPTZ"
    if isinstance(column_type, Boolean):
        return "BOOLEAN"
    if isinstance(column_type, BigInteger | Integer):
        return "BIGINT"
    if isinstance(column_type, String | Text):
        return "VARCHAR"
    raise TypeError(f"no DuckDB type for {column_type!r}")


def create_tables(
    con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...] = AUDIENCE_TABLES
) -> None:
    """Create the tables (if absent) on a DuckDB connection."""
    for table in tables:
        columns = ", ".join(f'"{c.name}" {duckdb_type(c.type)}' for c in table.columns)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table.name}" ({columns})')
