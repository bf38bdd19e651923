"""Concrete SQL backends (SQLite, PostgreSQL). Imported only by composition roots."""

from clarion.storage.sql.database import SqlDatabase, SqlTx
from clarion.storage.sql.engine import make_engine, normalise_url

__all__ = ["SqlDatabase", "SqlTx", "make_engine", "normalise_url"]
