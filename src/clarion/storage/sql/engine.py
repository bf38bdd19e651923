"""Engines for the supported database URLs, configured the same way everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from clarion.storage.errors import UnsupportedDatabase
from clarion.storage.sql.checkpoint import AUTOCHECKPOINT_PAGES

SQLITE_SYNCHRONOUS = "FULL"
"""WAL with synchronous=FULL: a 200 answered to an SDK survives a power cut."""

SQLITE_CACHE_KIB = 64 * 1024
"""Each connection's page cache (SQLite's default is 2 MB). A campaign to a million
people claims, appends and loads through indexes far larger than 2 MB, and every
page missed is a read system call: 64 MB made a 200,000-recipient campaign 7-18%
faster (`bench/campaigns.py` (a)). The cache fills only as pages are read."""


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def normalise_url(url: str) -> str:
    """Accept the short forms users write (`postgresql://`, a bare file path)."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (WAL) or PostgreSQL (psycopg 3)."""
    url = normalise_url(url)
    parsed = make_url(url)
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, common)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **common)
    raise UnsupportedDatabase(f"unsupported database URL {parsed.render_as_string()!r}")


def _sqlite_engine(url: str, common: dict[str, Any]) -> Engine:
    memory = make_url(url).database in (None, "", ":memory:")
    if memory:
        common["poolclass"] = StaticPool
    else:
        Path(make_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, **common)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook emit BEGIN itself (pysqlite's own
        # transaction handling cannot do BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # `SqlDatabase` checkpoints on a thread of its own (`checkpoint.py`).
            cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: no deadlock on lock upgrade, and
        # while a writer runs no other append is half-done (the event log's
        # watermark relies on that).
        write = conn.get_execution_options().get("clarion_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
