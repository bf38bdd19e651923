"""Statements handed to the database driver as written, for the delivery hot path.

SQLAlchemy Core spends ~10 µs of Python per row of an executemany (building
each row's parameters, running each column type's bind processor) and
recompiles `IN` lists of varying length. The few statements that run once per
message at 20,000 messages/s (queueing, claiming, finishing, capturing) are
written here in SQL with positional parameters and run with
`Connection.exec_driver_sql`, so the driver's own `executemany` gets plain
tuples. Values must then be given as the column types would have stored
them: `driver_time` and `driver_json` do that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, CursorResult


def driver_sql(dialect: str, sql: str) -> str:
    """`sql` written with `?` placeholders, in the driver's paramstyle (psycopg: `%s`)."""
    return sql.replace("?", "%s") if dialect == "postgresql" else sql


def json_param(dialect: str) -> str:
    """The placeholder of a JSON value given as text (PostgreSQL casts it to jsonb)."""
    return "CAST(? AS jsonb)" if dialect == "postgresql" else "?"


def driver_time(dialect: str, moment: datetime) -> Any:
    """A `UtcDateTime` value as the driver takes it: SQLite stores SQLAlchemy's
    naive UTC text (`2026-11-28 09:00:00.000000`), psycopg an aware datetime."""
    if dialect == "postgresql":
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def driver_json(value: Any) -> str:
    """A `Json` value as text; None is JSON `null`, as the column type stores it."""
    return orjson.dumps(value).decode()


def execute(
    conn: Connection, dialect: str, sql: str, rows: Sequence[tuple[Any, ...]] | tuple[Any, ...]
) -> CursorResult[Any]:
    """Run `sql` (`?` placeholders) with one row of parameters, or many (executemany)."""
    return conn.exec_driver_sql(driver_sql(dialect, sql), rows)
