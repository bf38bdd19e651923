"""The embedded DuckDB source: one database file per workspace.

Entity tables carry the entity's name (or `table`); Clarion's profiles,
identities and consent are copied in under their own names; work tables are
`wt_<run>_<n>`. One connection per file, used under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from clarion.audiences.sql.build import table
from clarion.orchestrated.catalog import Entity
from clarion.orchestrated.errors import DataSourceError
from clarion.orchestrated.sources.rows import SQL_TYPES, typed_rows
from clarion.orchestrated.sql.dialects import CANVAS_DIALECTS

COPY_TYPES = {
    "json": "JSON",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "bigint": "BIGINT",
    "string": "VARCHAR",
}


def quoted(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


class DuckDbSource:
    """A workspace's DuckDB database (a file, or memory when `path` is None)."""

    def __init__(self, path: Path | None, *, threads: int | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = CANVAS_DIALECTS["duckdb"]
        self.con = duckdb.connect(str(path) if path is not None else ":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._lock = threading.RLock()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Several statements with no other thread's in between."""
        with self._lock:
            yield

    def table_of(self, name: str, alias: str) -> exp.Expr:
        return table(name, alias)

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        with self._lock:
            try:
                self.con.execute(sql, params or None)
            except duckdb.Error as exc:
                raise DataSourceError(f"DuckDB: {exc}") from exc

    def fetch(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._lock:
            try:
                cursor = self.con.execute(sql, params or None)
                rows = cursor.fetchall()
            except duckdb.Error as exc:
                raise DataSourceError(f"DuckDB: {exc}") from exc
            names = [d[0] for d in cursor.description or []]
        return names, rows

    def create_table(self, name: str, sql: str, params: dict[str, Any]) -> None:
        self.execute(f"CREATE OR REPLACE TABLE {quoted(name)} AS {sql}", params)

    def drop_table(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {quoted(name)}", {})

    def has_table(self, name: str) -> bool:
        _names, rows = self.fetch(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = $n", {"n": name}
        )
        return bool(rows[0][0])

    def _create(self, name: str, columns: Sequence[tuple[str, str]], replace: bool) -> None:
        body = ", ".join(f"{quoted(c)} {t}" for c, t in columns)
        verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
        self.execute(f"{verb} {quoted(name)} ({body})", {})

    def _insert(self, name: str, width: int, rows: Iterable[Sequence[Any]]) -> None:
        marks = ", ".join("?" for _ in range(width))
        batch = list(rows)
        if not batch:
            return
        with self._lock:
            try:
                self.con.executemany(f"INSERT INTO {quoted(name)} VALUES ({marks})", batch)
            except duckdb.Error as exc:
                raise DataSourceError(f"DuckDB: {exc}") from exc

    def load(self, entity: Entity, rows: Sequence[dict[str, Any]], replace: bool) -> int:
        typed = typed_rows(entity, rows)
        columns = [(n, SQL_TYPES[t]) for n, t in entity.attributes.items()]
        with self._lock:
            self._create(entity.table, columns, replace)
            if not replace and typed:
                keys = [row[list(entity.attributes).index(entity.primary_key)] for row in typed]
                self.con.execute(
                    f"DELETE FROM {quoted(entity.table)} WHERE {quoted(entity.primary_key)}"
                    " IN (SELECT unnest($keys))",
                    {"keys": keys},
                )
            self._insert(entity.table, len(columns), typed)
        return len(typed)

    def put_rows(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
    ) -> None:
        typed = [(n, COPY_TYPES[k]) for n, k in columns]
        with self._lock:
            self._create(name, typed, True)
            self._insert(name, len(columns), rows)

    def close(self) -> None:
        with self._lock:
            self.con.close()
