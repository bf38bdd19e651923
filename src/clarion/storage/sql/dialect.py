"""The few statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

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
