"""The few statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(dialect: str, table: Table, *index_elements: str) -> Any:
    """An INSERT that skips rows conflicting on `index_elements`."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def upsert(dialect: str, table: Table, index_elements: list[str], update: list[str]) -> Any:
    """An INSERT that updates `update` columns of a row conflicting on `index_elements`."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=index_elements, set_={c: stmt.excluded[c] for c in update}
    )


def adding(dialect: str, table: Table, index_elements: list[str], column: str) -> Any:
    """An INSERT that adds `column` to the existing row's value on a conflict (counters)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=index_elements, set_={column: table.c[column] + stmt.excluded[column]}
    )


def in_json_list(dialect: str, column: str, param: str) -> str:
    """SQL testing that `column` is one of the strings in the JSON array bound to `:param`.

    One statement text whatever the list's length (an expanding IN renders new SQL for
    each length), and both dialects plan it as index lookups, one per element."""
    if dialect == "postgresql":
        return f"{column} = ANY(SELECT jsonb_array_elements_text(CAST(:{param} AS jsonb)))"
    return f"{column} IN (SELECT value FROM json_each(:{param}))"


def _as_is(value: Any) -> Any:
    return value


def json_reader(dialect: str) -> Callable[[Any], Any]:
    """How to read a JSON column fetched by a plain (`text`) statement: SQLite's driver
    hands back the text, psycopg the parsed value."""
    return orjson.loads if dialect == "sqlite" else _as_is
