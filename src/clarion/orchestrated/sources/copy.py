"""Profiles, identities, consent and suppressions copied from Clarion's store.

Without the DuckDB copy the audience issue keeps current from the log (see
`maintained`), `StoreCopy` is the `ProfileProvider`: at each calculation or
run it copies the workspace's rows from the store into the source (freshness:
the copy time). PostgreSQL in Clarion's own database needs no copy (`DirectTables`).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Table, Text

from clarion.clock import Clock
from clarion.orchestrated.sources.base import DataSource, Freshness
from clarion.storage import schema
from clarion.storage.base import Database
from clarion.storage.types import UtcDateTime

COPIED: tuple[Table, ...] = (
    schema.profiles,
    schema.identities,
    schema.subscriptions,
    schema.subscription_groups,
    schema.address_subscriptions,
    schema.suppressions,
    schema.events,
    schema.audience_members,
)
"""What canvas SQL may read of Clarion's own tables (list audiences' members included)."""


def column_kind(column_type: Any) -> str:
    """`json`, `timestamp`, `boolean`, `bigint` or `string`."""
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, UtcDateTime):
        return "timestamp"
    if isinstance(column_type, Boolean):
        return "boolean"
    if isinstance(column_type, BigInteger | Integer):
        return "bigint"
    if isinstance(column_type, String | Text):
        return "string"
    raise TypeError(f"no copy type for {column_type!r}")


def _cell(kind: str, value: Any) -> Any:
    if kind == "json" and value is not None:
        return orjson.dumps(value).decode()
    if kind == "timestamp" and value is not None:
        return value.replace(tzinfo=None)
    return value


class StoreCopy:
    """Copies the workspace's profile tables from the store into a source."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def provide(self, source: DataSource, workspace_id: str) -> Freshness:
        now = self.clock.now()
        self.provide_tables(source, workspace_id, COPIED)
        return Freshness(now, "copied from Clarion's store when the computation started")

    def provide_tables(
        self, source: DataSource, workspace_id: str, tables: tuple[Table, ...]
    ) -> None:
        """Copy these tables' rows of the workspace into the source."""
        with self.db.read() as tx:
            for table in tables:
                kinds = [(c.name, column_kind(c.type)) for c in table.columns]
                rows = tx.canvases.table_rows(workspace_id, table.name, [n for n, _ in kinds])
                converted = (
                    tuple(_cell(k, v) for (_n, k), v in zip(kinds, row, strict=True))
                    for row in rows
                )
                source.put_rows(table.name, kinds, converted)


class DirectTables:
    """Clarion's own tables, read in place (PostgreSQL in the same database)."""

    def provide(self, source: DataSource, workspace_id: str) -> Freshness:
        return Freshness(None, "read directly from Clarion's database (current)", live=True)
