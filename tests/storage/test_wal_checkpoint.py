"""The WAL checkpointer thread: committed pages reach the database file without a writer's help."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from clarion.storage.base import Page
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.checkpoint import AUTOCHECKPOINT_PAGES, WalCheckpointer
from clarion.storage.sql.migrate import upgrade


def _writer(path: Path) -> sqlite3.Connection:
    """A connection that never checkpoints by itself, with 500 rows committed in the WAL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(500)])
    return conn


def _rows_in_file_alone(path: Path, tmp_path: Path) -> int:
    """Rows seen by opening a copy of the database file without its WAL."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:  # the table itself is still only in the WAL
        return 0
    finally:
        conn.close()


def test_without_a_checkpoint_the_rows_are_only_in_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = _writer(path)
    assert _rows_in_file_alone(path, tmp_path) == 0
    conn.close()


def test_the_thread_copies_committed_pages_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = _writer(path)
    checkpointer = WalCheckpointer(path)
    checkpointer.nudge()
    checkpointer.stop()  # joins the thread after its last checkpoint
    assert checkpointer.checkpoints >= 1
    assert _rows_in_file_alone(path, tmp_path) == 500
    conn.close()


def test_no_thread_is_started_after_stop(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "a.db")
    checkpointer.stop()
    checkpointer.nudge()
    checkpointer.stop()  # would join a thread started by the nudge, after its checkpoint
    assert checkpointer.checkpoints == 0


def test_sqlite_database_checkpoints_after_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    db = SqlDatabase.from_url(url)
    upgrade(db.engine)
    checkpointer = db.wal_checkpointer
    assert checkpointer is not None
    with db.read() as tx:
        pages = tx.conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == AUTOCHECKPOINT_PAGES  # writers' own checkpoints only as a safety net
    with db.write() as tx:
        tx.workspaces.list(Page(limit=1))
    checkpointer.stop()
    assert checkpointer.checkpoints >= 1
    db.close()


def test_only_sqlite_files_have_a_checkpointer(db: SqlDatabase) -> None:
    assert (db.wal_checkpointer is not None) == (db.dialect == "sqlite")
    assert SqlDatabase.from_url("sqlite://").wal_checkpointer is None  # in memory: no WAL
