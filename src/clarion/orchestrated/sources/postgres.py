"""The PostgreSQL source: entity and work tables in a schema of the workspace.

In Clarion's own database (the default) canvas SQL joins the real profile,
identity and consent tables; in another database they are copied into the
workspace's schema, which comes first on the search path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlglot import exp

from clarion.orchestrated.catalog import Entity
from clarion.orchestrated.errors import DataSourceError
from clarion.orchestrated.sources.duckdb import quoted
from clarion.orchestrated.sources.rows import typed_rows
from clarion.orchestrated.sql.dialects import CANVAS_DIALECTS

PG_TYPES = {
    "string": "TEXT",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "json": "JSONB",
    "bigint": "BIGINT",
}


class PostgresSource:
    """A workspace's tables in schema `cx_<workspace>` of a PostgreSQL database."""

    def __init__(self, url: str, workspace_id: str, *, engine: Engine | None = None) -> None:
        self.engine = CANVAS_DIALECTS["postgresql"]
        self.db = engine or create_engine(url, pool_pre_ping=True)
        self.schema = "cx_" + workspace_id.replace("-", "").lower()
        with self.db.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted(self.schema)}"))

    def table_of(self, name: str, alias: str) -> exp.Expr:
        return exp.Table(
            this=exp.to_identifier(name),
            db=exp.to_identifier(self.schema),
            alias=exp.TableAlias(this=exp.to_identifier(alias)),
        )

    def _run(self, sql: str, params: dict[str, Any], fetch: bool = False) -> Any:
        try:
            with self.db.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL search_path TO {quoted(self.schema)}, public")
                result = conn.exec_driver_sql(sql, params) if params else conn.exec_driver_sql(sql)
                if fetch:
                    return list(result.keys()), [tuple(r) for r in result]
        except DBAPIError as exc:
            raise DataSourceError(f"PostgreSQL: {exc.orig}") from exc
        return None

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        self._run(sql, params)

    def fetch(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        names, rows = self._run(sql, params, fetch=True)
        return names, rows

    def _name(self, name: str) -> str:
        return f"{quoted(self.schema)}.{quoted(name)}"

    def create_table(self, name: str, sql: str, params: dict[str, Any]) -> None:
        self.drop_table(name)
        self.execute(f"CREATE TABLE {self._name(name)} AS {sql}", params)

    def drop_table(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self._name(name)}", {})

    def has_table(self, name: str) -> bool:
        _n, rows = self.fetch(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = %(s)s AND table_name = %(n)s",
            {"s": self.schema, "n": name},
        )
        return bool(rows[0][0])

    def _replace(self, name: str, columns: Sequence[tuple[str, str]], rows: list[Any]) -> None:
        body = ", ".join(f"{quoted(c)} {PG_TYPES[t]}" for c, t in columns)
        marks = ", ".join(f"%(c{i})s" for i in range(len(columns)))
        try:
            with self.db.begin() as conn:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._name(name)}")
                conn.exec_driver_sql(f"CREATE TABLE {self._name(name)} ({body})")
                if rows:
                    conn.exec_driver_sql(
                        f"INSERT INTO {self._name(name)} VALUES ({marks})",
                        [{f"c{i}": v for i, v in enumerate(row)} for row in rows],
                    )
        except DBAPIError as exc:
            raise DataSourceError(f"PostgreSQL: {exc.orig}") from exc

    def load(self, entity: Entity, rows: Sequence[dict[str, Any]], replace: bool) -> int:
        typed = typed_rows(entity, rows)
        columns = list(entity.attributes.items())
        if not replace and self.has_table(entity.table):
            _keep_names, kept = self.fetch(f"SELECT * FROM {self._name(entity.table)}", {})
            pk = list(entity.attributes).index(entity.primary_key)
            new_keys = {row[pk] for row in typed}
            typed = [r for r in kept if r[pk] not in new_keys] + typed
        self._replace(entity.table, columns, typed)
        return len(rows)

    def put_rows(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
    ) -> None:
        self._replace(name, columns, list(rows))

    def close(self) -> None:
        self.db.dispose()
