"""Migrations produce exactly the schema the code declares, on every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from clarion.storage.schema import metadata
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.migrate import alembic_config, upgrade


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


def _stored_without_rowid(engine: Any) -> set[str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        return {name for name, sql in rows if sql.rstrip().upper().endswith("WITHOUT ROWID")}


def test_small_keyed_tables_are_stored_without_rowid_on_sqlite(sqlite_db: SqlDatabase) -> None:
    declared = {
        t.name for t in metadata.sorted_tables if t.kwargs.get("sqlite_with_rowid") is False
    }
    assert {"audience_members", "audience_timers", "identities", "send_ledger"} <= declared
    assert _stored_without_rowid(sqlite_db.engine) == declared


def test_rebuilding_without_rowid_keeps_rows_indexes_and_cascades(tmp_path: Path) -> None:
    database = SqlDatabase.from_url(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(database.engine, "0010")
    assert _stored_without_rowid(database.engine) == set()
    with database.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO workspaces (id, name, settings, created_at)"
            " VALUES ('w1', 'one', '{}', '2026-11-29')"
        )
        conn.exec_driver_sql(
            "INSERT INTO audience_members VALUES ('w1', 'a', 'p1', 1), ('w1', 'b', 'p1', 2)"
        )
        conn.exec_driver_sql(
            "INSERT INTO identities VALUES ('w1', 'email', 'x@example.com', 'p1', '2026-11-29')"
        )
    upgrade(database.engine)
    indexes = {i["name"] for i in inspect(database.engine).get_indexes("audience_members")}
    assert indexes == {"ix_audience_members_profile"}
    with database.engine.begin() as conn:
        members = conn.exec_driver_sql("SELECT audience, since FROM audience_members").all()
        assert sorted(members) == [("a", 1), ("b", 2)]
        assert conn.exec_driver_sql("SELECT profile_id FROM identities").all() == [("p1",)]
        conn.exec_driver_sql("DELETE FROM workspaces WHERE id = 'w1'")
        assert conn.exec_driver_sql("SELECT count(*) FROM audience_members").scalar() == 0
    config = alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    assert _stored_without_rowid(database.engine) == set()
    database.close()
