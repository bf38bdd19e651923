"""Handing SQLite's write slot from one process to the next without sleeping.

Writers in several processes on one SQLite file take turns at its single write
lock. SQLite's busy handler polls for it, sleeping 1, 2, 5, ... up to 100 ms
between tries, so a writer that waits often sleeps long after the lock is free.
Writers that share a file with other processes (dispatchers always; in the
scaled-out mode every writer: see `SqlDatabase.share_writes`) therefore queue on
an `flock` of a file beside the database first: the kernel wakes the waiter as
soon as the holder releases it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from clarion.storage.base import Database


def sqlite_file(db: Database) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL and in-memory databases."""
    if db.dialect != "sqlite":
        return None
    # Duck-typed: delivery may not import the SQL backend (`SqlDatabase.engine.url`).
    url = getattr(getattr(db, "engine", None), "url", None)
    name = getattr(url, "database", None)
    if not isinstance(name, str) or name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


class ProcessWriteLock:
    """An exclusive `flock` on `path`, taken by one thread of this process at a time.

    The file is opened for each turn (two system calls a batch, nothing to close
    or leak, and a forked child never shares the parent's lock).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None

    def __enter__(self) -> ProcessWriteLock:
        self._threads.acquire()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        fd, self._fd = self._fd, None
        try:
            if fd is not None:
                os.close(fd)  # releases the flock
        finally:
            self._threads.release()


def write_lock_path(database_file: Path) -> Path:
    """The lock file beside a SQLite database file."""
    return database_file.with_name(database_file.name + "-dispatch.lock")
