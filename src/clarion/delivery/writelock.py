"""The dispatcher's write transactions, queued across processes on a SQLite file.

See `clarion.storage.processlock`: dispatchers in several processes hand SQLite's
write slot on at once instead of sleeping in its busy handler.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager

from clarion.storage.base import Database, Tx
from clarion.storage.processlock import ProcessWriteLock, sqlite_file, write_lock_path

__all__ = ["DispatchWriter", "ProcessWriteLock", "sqlite_file"]


class DispatchWriter:
    """Opens the dispatcher's write transactions, queued across processes on SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db
        path = sqlite_file(db)
        # A database that shares its writes with other processes takes this lock itself.
        shared = bool(getattr(db, "shares_writes", False))
        self.lock = ProcessWriteLock(write_lock_path(path)) if path and not shared else None

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        """`db.write()`, after this process's turn at the cross-process lock."""
        lock: AbstractContextManager[object] = (
            self.lock if self.lock is not None else contextlib.nullcontext()
        )
        with lock, self.db.write() as tx:
            yield tx
