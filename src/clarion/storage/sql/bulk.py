"""Many rows in one short statement, for the hot paths that write per batch.

SQLAlchemy's executemany path spends ~30 µs a row processing parameters, and on
PostgreSQL a multi-row VALUES statement is re-parsed by the driver for every
chunk (or, without RETURNING, sent as one statement per row). Here SQLite gets
the driver's executemany of one prepared statement, values converted as
SQLAlchemy converts them (JSON as JSON text, `None` as JSON `null`, datetimes
through the column type). PostgreSQL gets one `INSERT ... SELECT FROM
json_to_recordset(rows)` per chunk: the rows travel as one JSON document that
orjson writes in C (psycopg escapes each item of a text array in Python, which
cost more than the rest of the insert). A JSON `None` is then SQL NULL, which
reads back as `None` all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table, text

_UNSET = object()

CHUNK = 5000
"""Rows per PostgreSQL statement (arrays of this length stay well under limits)."""


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True)
class BulkInsert:
    """An INSERT of many rows into `columns` of `table`.

    On a conflict on `conflict`: replace the `update` columns, or add to the `add`
    column (counters), or (neither given) leave the existing row alone.
    """

    table: Table
    columns: tuple[str, ...]
    conflict: tuple[str, ...]
    update: tuple[str, ...] = ()
    add: str | None = None

    def _on_conflict(self) -> str:
        keys = _names(self.conflict)
        if self.add is not None:
            name = self.table.name
            return (
                f" ON CONFLICT ({keys}) DO UPDATE SET "
                f"{self.add} = {name}.{self.add} + excluded.{self.add}"
            )
        if self.update:
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in self.update)
            return f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        return f" ON CONFLICT ({keys}) DO NOTHING"

    def _converters(self, conn: Connection) -> list[Callable[[Any], Any] | None]:
        dialect = conn.dialect
        found: list[Callable[[Any], Any] | None] = []
        for name in self.columns:
            kind = self.table.c[name].type
            if isinstance(kind, JSON) or isinstance(kind.dialect_impl(dialect), JSON):
                found.append(_json_text)
            else:
                found.append(kind.dialect_impl(dialect).bind_processor(dialect))
        return found

    def _rows(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        converting = [(i, f) for i, f in enumerate(self._converters(conn)) if f is not None]
        # A batch's rows mostly share their timestamps (one `now`), and often one JSON
        # object (a campaign's context): a value that is the previous row's object is
        # not converted again.
        last: list[tuple[Any, Any]] = [(_UNSET, None)] * len(converting)
        out = []
        for row in rows:
            values = list(row)
            for n, (index, convert) in enumerate(converting):
                value = values[index]
                seen, converted = last[n]
                if value is not seen:
                    converted = convert(value)
                    last[n] = (value, converted)
                values[index] = converted
            out.append(tuple(values))
        return out

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Write `rows` (tuples in the order of `columns`)."""
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            self._execute_pg(conn, rows, "")
            return
        marks = ", ".join("?" for _ in self.columns)
        sql = (
            f"INSERT INTO {self.table.name} ({_names(self.columns)}) VALUES ({marks})"
            + self._on_conflict()
        )
        conn.exec_driver_sql(sql, self._rows(conn, rows))

    def returning(self, conn: Connection, rows: Sequence[Sequence[Any]], column: str) -> list[Any]:
        """Write `rows`; returns `column` of the rows actually inserted (a conflict left
        alone returns nothing). SQLite: asks which exist first (its writers hold the
        database's only write lock, so none can appear in between)."""
        if not rows:
            return []
        if conn.dialect.name == "postgresql":
            return self._execute_pg(conn, rows, f" RETURNING {column}")
        index = self.columns.index(column)
        wanted = list(dict.fromkeys(r[index] for r in rows))
        existing: set[Any] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            existing.update(
                r[0]
                for r in conn.exec_driver_sql(
                    f"SELECT {column} FROM {self.table.name} WHERE {column} IN ({marks})",
                    tuple(chunk),
                )
            )
        self.execute(conn, rows)
        return [v for v in wanted if v not in existing]

    def _execute_pg(self, conn: Connection, rows: Sequence[Sequence[Any]], tail: str) -> list[Any]:
        dialect = conn.dialect
        fields = ", ".join(
            f'"{name}" {self.table.c[name].type.dialect_impl(dialect).compile(dialect=dialect)}'
            for name in self.columns
        )
        names = ", ".join(f'"{name}"' for name in self.columns)
        statement = text(
            f"INSERT INTO {self.table.name} ({names}) SELECT {names}"
            f" FROM json_to_recordset(CAST(:rows AS json)) AS r({fields})"
            + self._on_conflict()
            + tail
        )
        out: list[Any] = []
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            document = orjson.dumps([dict(zip(self.columns, r, strict=True)) for r in chunk])
            result = conn.execute(statement, {"rows": document.decode()})
            if tail:
                out.extend(r[0] for r in result)
        return out
