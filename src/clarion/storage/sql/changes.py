"""Cheap probes that tell whether another connection has committed since last asked.

A worker in its own process (`clarion worker`) is not woken by the API process's
appends; polling every consumer's cursor to find out costs a write transaction
each. A probe costs one tiny statement: on SQLite `PRAGMA data_version` on a
private connection (it changes whenever any other connection commits), on
PostgreSQL the next transaction id to be handed out (it moves whenever any
transaction writes). A spurious change only costs the woken loops an empty poll.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine, text

_PG_NEXT_XID = text("SELECT pg_snapshot_xmax(pg_current_snapshot())")


class ChangeProbe:
    """Call it for a token that differs once another connection has committed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite: sqlite3.Connection | None = None
        path = engine.url.database
        if engine.dialect.name == "sqlite" and path and path != ":memory:":
            self._sqlite = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def __call__(self) -> object:
        if self._sqlite is not None:
            return self._sqlite.execute("PRAGMA data_version").fetchone()[0]
        if self._engine.dialect.name == "sqlite":
            return None  # a private in-memory database: nobody else can write
        with self._engine.connect() as conn:
            value = conn.execute(_PG_NEXT_XID).scalar()
            conn.rollback()
            return value

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
