"""Dispatchers on one SQLite file take turns at an flock beside it; other databases need none."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from clarion.delivery.writelock import DispatchWriter, ProcessWriteLock, sqlite_file
from clarion.storage.sql import SqlDatabase


def held_elsewhere(path: Path) -> bool:
    """Whether another open file (as another process has) would have to wait for the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases it if we got it
    return False


def test_the_lock_is_exclusive_while_held_and_free_after(tmp_path: Path) -> None:
    path = tmp_path / "db-dispatch.lock"
    lock = ProcessWriteLock(path)
    with lock:
        assert held_elsewhere(path)
    assert not held_elsewhere(path)
    with pytest.raises(RuntimeError), lock:  # released when the transaction fails too
        raise RuntimeError("boom")
    assert not held_elsewhere(path)


def test_a_sqlite_file_gets_a_lock_beside_it_held_for_the_write_transaction(
    sqlite_db: SqlDatabase,
) -> None:
    path = sqlite_file(sqlite_db)
    assert path is not None and path.exists()
    writer = DispatchWriter(sqlite_db)
    assert writer.lock is not None
    lock_path = path.with_name(path.name + "-dispatch.lock")
    with writer.write() as tx:
        assert tx.workspaces is not None
        assert held_elsewhere(lock_path)
    assert not held_elsewhere(lock_path)


def test_memory_and_postgresql_databases_have_no_file_lock(tmp_path: Path) -> None:
    memory = SqlDatabase.from_url("sqlite://")
    try:
        assert sqlite_file(memory) is None
        assert DispatchWriter(memory).lock is None
    finally:
        memory.close()
    postgres = SqlDatabase.from_url("postgresql://nobody@127.0.0.1:1/none")  # never connects
    try:
        assert sqlite_file(postgres) is None
    finally:
        postgres.close()
