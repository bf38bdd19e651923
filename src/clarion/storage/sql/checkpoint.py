"""Copying SQLite's write-ahead log into the database on a thread of its own.

By default the connection whose commit takes the WAL past 1,000 pages copies
those pages into the database file (a checkpoint) before its `commit()` returns,
while it still holds the write lock that every other writer of this process (and,
with `share_writes`, of the others) queues on. Measured on a log consumer's
batches, that was ~10% of its time. Here a thread with its own connection runs a
`PASSIVE` checkpoint (it never blocks readers or writers) shortly after writes,
at most a few times a second; `sqlite3` releases the GIL while it runs, so it
proceeds on another core. Connections keep an automatic checkpoint far above
what the thread lets the WAL reach, so a process without this thread (a CLI
command, a crashed checkpointer) still bounds the WAL.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 10_000
"""Every connection's own automatic checkpoint (~40 MB of WAL): the safety net."""

INTERVAL_SECONDS = 0.2
"""Least time between two checkpoints of the thread, so that each copies a batch."""


class WalCheckpointer:
    """Checkpoints the WAL of the SQLite file `path` after writes (`nudge`), on a thread."""

    def __init__(self, path: Path, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        """Checkpoints run so far (for tests and diagnostics)."""
        self._written = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._start = threading.Lock()

    def nudge(self) -> None:
        """Something was committed: checkpoint soon (starts the thread the first time)."""
        if self._thread is None or self._pid != os.getpid():
            with self._start:
                if self._pid != os.getpid():  # a forked child has no thread yet
                    self._pid, self._thread = os.getpid(), None
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="clarion-wal-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._written.set()

    def stop(self) -> None:
        """Run a last checkpoint and end the thread."""
        self._stopping.set()
        self._written.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            while True:
                self._written.wait()
                self._written.clear()
                self.checkpoint(conn)
                if self._stopping.is_set():
                    return
                self._stopping.wait(self.interval)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One passive checkpoint; a failure is logged, and the next write tries again."""
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as error:  # (another process's checkpoint, a full disk)
            log.warning("WAL checkpoint of %s failed: %s", self.path, error)
