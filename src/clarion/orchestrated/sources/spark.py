"""The Spark SQL source (pyspark; local mode in tests), for data that outgrows one machine.

Each workspace gets its own session on one shared Spark context: its entity
rows, the profile copy and its work tables are temporary views of that session
(work tables checkpointed locally). Two Python functions are registered where Spark lacks a
JSON type test (`clarion.orchestrated.sql.spark_json`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from sqlglot import exp

from clarion.audiences.sql.build import table
from clarion.orchestrated.catalog import Entity
from clarion.orchestrated.errors import DataSourceError
from clarion.orchestrated.sources.duckdb import quoted
from clarion.orchestrated.sources.rows import typed_rows
from clarion.orchestrated.sql.dialects import CANVAS_DIALECTS
from clarion.orchestrated.sql.spark_json import json_text, json_type

SPARK_TYPES = {
    "string": "STRING",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP_NTZ",
    "json": "STRING",
    "bigint": "BIGINT",
}
_LOCK = threading.Lock()
_ROOTS: dict[str, Any] = {}


def root_session(master: str) -> Any:
    """The process's Spark session for `master` (UTC, small shuffles, no UI)."""
    with _LOCK:
        if master not in _ROOTS:
            from pyspark.sql import SparkSession

            # Python functions run in workers that must import Clarion: this interpreter.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

            _ROOTS[master] = (
                SparkSession.builder.master(master)
                .appName("clarion")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "1")
                .config("spark.default.parallelism", "1")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.ansi.enabled", "false")
                .config("spark.pyspark.python", sys.executable)
                .config("spark.pyspark.driver.python", sys.executable)
                .getOrCreate()
            )
        return _ROOTS[master]


def _reason(exc: Exception) -> str:
    """The first line of an error that says what went wrong (Java's, when there is one)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    java = [line for line in lines if "Exception:" in line or "Error:" in line]
    return (java or lines or [type(exc).__name__])[0][:500]


class SparkSource:
    """A workspace's views in its own Spark session."""

    def __init__(self, master: str = "local[1]") -> None:
        from pyspark.sql.types import StringType

        self.engine = CANVAS_DIALECTS["spark"]
        self.spark = root_session(master).newSession()
        self.spark.udf.register("clarion_json_type", json_type, StringType())
        self.spark.udf.register("clarion_json_text", json_text, StringType())
        self._lock = threading.RLock()

    def table_of(self, name: str, alias: str) -> exp.Expr:
        return table(name, alias)

    def _sql(self, sql: str, params: dict[str, Any]) -> Any:
        try:
            return self.spark.sql(sql, args=params or None)
        except Exception as exc:  # py4j and analysis errors alike
            raise DataSourceError(f"Spark: {_reason(exc)}", sql=sql) from exc

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._sql(sql, params).collect()

    def fetch(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._lock:
            frame = self._sql(sql, params)
            return list(frame.columns), [tuple(r) for r in frame.collect()]

    def create_table(self, name: str, sql: str, params: dict[str, Any]) -> None:
        with self._lock:
            self.drop_table(name)
            frame = self._sql(sql, params)
            try:  # materialise now and cut the lineage: later steps read a leaf
                # fresh column ids: two checkpoints of one input must not share them
                frame = frame.localCheckpoint(eager=True).toDF(*frame.columns)
            except Exception as exc:
                raise DataSourceError(f"Spark: {_reason(exc)}", sql=sql) from exc
            frame.createOrReplaceTempView(name)

    def drop_table(self, name: str) -> None:
        with self._lock:
            if self.spark.catalog.tableExists(name):
                self.spark.catalog.dropTempView(name)

    def has_table(self, name: str) -> bool:
        with self._lock:
            return bool(self.spark.catalog.tableExists(name))

    def _view(self, name: str, columns: Sequence[tuple[str, str]], rows: list[Any]) -> None:
        schema = ", ".join(
            f"{quoted(c).replace(chr(34), '`')} {SPARK_TYPES[t]}" for c, t in columns
        )
        with self._lock:
            self.spark.createDataFrame(rows, schema=schema).createOrReplaceTempView(name)

    def load(self, entity: Entity, rows: Sequence[dict[str, Any]], replace: bool) -> int:
        typed = typed_rows(entity, rows)
        if not replace and self.has_table(entity.table):
            pk = list(entity.attributes).index(entity.primary_key)
            new_keys = {row[pk] for row in typed}
            _names, kept = self.fetch(f"SELECT * FROM `{entity.table}`", {})
            typed = [r for r in kept if r[pk] not in new_keys] + typed
        self._view(entity.table, list(entity.attributes.items()), typed)
        return len(rows)

    def put_rows(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
    ) -> None:
        self._view(name, columns, list(rows))

    def close(self) -> None:
        """Temporary views end with the session; the shared context stays for others."""
