"""Migrations produce exactly the schema the code declares, on every backend."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from clarion.storage.schema import metadata
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.migrate import upgrade


def test_migrated_database_matches_the_declared_schema(db: SqlDatabase) -> None:
    def declared_here(item: Any, name: Any, kind: str, reflected: bool, other: Any) -> bool:
        """Objects declared for some dialects only (`info["dialects"]`) exist only there."""
        dialects = getattr(item, "info", {}).get("dialects") if not reflected else None
        if reflected and other is not None:
            dialects = other.info.get("dialects")
        return dialects is None or db.dialect in dialects

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": declared_here}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_log_has_its_position_index_only_on_postgresql(db: SqlDatabase) -> None:
    names = {index["name"] for index in inspect(db.engine).get_indexes("events")}
    assert ("ix_events_position" in names) == (db.dialect == "postgresql")


def test_upgrade_is_idempotent(db: SqlDatabase) -> None:
    upgrade(db.engine)
    upgrade(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_every_table_but_the_system_ones_carries_a_workspace() -> None:
    system = {"workspaces", "consumer_cursors"}
    missing = [
        t.name
        for t in metadata.sorted_tables
        if t.name not in system and "workspace_id" not in t.columns
    ]
    assert missing == []
