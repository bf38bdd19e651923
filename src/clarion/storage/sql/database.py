"""`Database` on SQLAlchemy: SQLite file (embedded default) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from clarion.storage.erasure import erase_profile
from clarion.storage.processlock import ProcessWriteLock, sqlite_file, write_lock_path
from clarion.storage.sql.audiences import SqlAudiences
from clarion.storage.sql.campaigns import SqlCampaigns
from clarion.storage.sql.canvases import SqlCanvases
from clarion.storage.sql.checkpoint import WalCheckpointer
from clarion.storage.sql.consent import SqlConsent
from clarion.storage.sql.delivery import (
    SqlCapture,
    SqlLedger,
    SqlSuppressions,
    channel_configs,
    set_channel_config,
    signing_key,
)
from clarion.storage.sql.documents import SqlDocuments
from clarion.storage.sql.engine import SQLITE_SYNCHRONOUS, make_engine
from clarion.storage.sql.events import SqlEventLog
from clarion.storage.sql.fairlock import FairLock
from clarion.storage.sql.journeys import SqlJourneys
from clarion.storage.sql.outbox import SqlOutbox
from clarion.storage.sql.profiles import SqlProfiles
from clarion.storage.sql.tombstones import SqlTombstones
from clarion.storage.sql.workspaces import SqlKeys, SqlWorkspaces


class SqlTx:
    """One transaction on one connection; repositories are made on first use."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self.committed: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this write transaction has committed (never if it rolls
        back), after its locks are released."""
        self.committed.append(callback)

    @cached_property
    def workspaces(self) -> SqlWorkspaces:
        return SqlWorkspaces(self.conn)

    @cached_property
    def keys(self) -> SqlKeys:
        return SqlKeys(self.conn)

    @cached_property
    def events(self) -> SqlEventLog:
        return SqlEventLog(self.conn, self.dialect)

    @cached_property
    def documents(self) -> SqlDocuments:
        return SqlDocuments(self.conn)

    @cached_property
    def profiles(self) -> SqlProfiles:
        return SqlProfiles(self.conn, self.dialect)

    @cached_property
    def consent(self) -> SqlConsent:
        return SqlConsent(self.conn, self.dialect)

    @cached_property
    def tombstones(self) -> SqlTombstones:
        return SqlTombstones(self.conn, self.dialect)

    @cached_property
    def audiences(self) -> SqlAudiences:
        return SqlAudiences(self.conn, self.dialect)

    @cached_property
    def journeys(self) -> SqlJourneys:
        return SqlJourneys(self.conn, self.dialect)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.conn, self.dialect)

    @cached_property
    def captured(self) -> SqlCapture:
        return SqlCapture(self.conn, self.dialect)

    @cached_property
    def suppressions(self) -> SqlSuppressions:
        return SqlSuppressions(self.conn, self.dialect)

    @cached_property
    def ledger(self) -> SqlLedger:
        return SqlLedger(self.conn, self.dialect)

    @cached_property
    def campaigns(self) -> SqlCampaigns:
        return SqlCampaigns(self.conn, self.dialect)

    @cached_property
    def canvases(self) -> SqlCanvases:
        return SqlCanvases(self.conn, self.dialect)

    def audience_members(
        self, workspace_id: str, definition: Any, now: datetime, resolver: Any
    ) -> list[str]:
        """The members of an audience definition, by the SQL compiler, in this transaction."""
        from clarion.audiences import members

        return members(self.conn, definition, workspace_id=workspace_id, now=now, resolver=resolver)

    def channel_configs(self, workspace_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
        return channel_configs(self.conn, workspace_id)

    def set_channel_config(
        self,
        workspace_id: str,
        channel: str,
        provider: str,
        settings: dict[str, Any],
        now: datetime,
    ) -> None:
        set_channel_config(self.conn, self.dialect, workspace_id, channel, provider, settings, now)

    def signing_key(self, workspace_id: str) -> str:
        return signing_key(self.conn, self.dialect, workspace_id)

    def erase_profile(self, workspace_id: str, profile_id: str) -> dict[str, int]:
        """Run every registered erasure hook for one profile in this transaction."""
        return erase_profile(self, workspace_id, profile_id)


class WriteObserver(Protocol):
    """Told when this process starts a write transaction and when it has ended."""

    def entered(self) -> None: ...

    def left(self) -> None: ...


class SqlDatabase:
    """A SQLAlchemy-backed `Database`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time. Writers of this process queue on a
        # lock that wakes the next one at once, instead of SQLite's busy handler,
        # which sleeps in steps of up to 100 ms (other processes still use it).
        self._write_lock = FairLock() if engine.dialect.name == "sqlite" else None
        self._process_lock: ProcessWriteLock | None = None
        self._observer: WriteObserver | None = None
        path = sqlite_file(self)
        self._checkpointer = WalCheckpointer(path) if path is not None else None

    @property
    def wal_checkpointer(self) -> WalCheckpointer | None:
        """What checkpoints this SQLite file's WAL after writes (None: not a SQLite file)."""
        return self._checkpointer

    @property
    def shares_writes(self) -> bool:
        """Whether writers queue with other processes' on the lock file (`share_writes`)."""
        return self._process_lock is not None

    def share_writes(self) -> None:
        """Queue every write transaction with other processes' on a lock file beside a
        SQLite file (the scaled-out mode: API, worker and dispatcher processes share
        it), so that the kernel hands the write slot on at once; SQLite's own busy
        handler sleeps up to 100 ms a try. Nothing to do for other databases."""
        path = sqlite_file(self)
        if path is not None and self._process_lock is None:
            self._process_lock = ProcessWriteLock(write_lock_path(path))

    def observe_writes(self, observer: WriteObserver) -> None:
        """Tell `observer` when this process starts and ends a write, inside the locks
        that `share_writes` takes (a change watch uses it to tell this process's
        commits from other processes')."""
        self._observer = observer

    @classmethod
    def from_url(cls, url: str) -> SqlDatabase:
        """Open (without migrating) the database at `url`."""
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[SqlTx]:
        with self.engine.connect() as conn, conn.begin():
            yield SqlTx(conn, self.dialect)

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[SqlTx]:
        """A write transaction, committed when the block ends without an error.

        `durable=False` is for work that can be redone from what is already durable
        (a log consumer's batch and its cursor): on SQLite its commit skips the
        fsync (WAL, `synchronous=NORMAL`). It survives a crash of the process; a
        power cut may lose it, and the consumer then processes the batch again from
        the log. The next durable commit syncs it too, so anything that another
        writer has acted on (a claimed outbox row) is synced before it is acted on.
        """
        relaxed = not durable and self.dialect == "sqlite"
        with self._writer(), self._observed(), self.engine.connect() as conn:
            conn.execution_options(clarion_write=True)
            # On the driver's connection: SQLAlchemy would open a transaction first,
            # and SQLite refuses to change the setting inside one.
            raw = conn.connection.driver_connection if relaxed else None
            if raw is not None:
                raw.execute("PRAGMA synchronous=NORMAL")
            tx = SqlTx(conn, self.dialect)
            try:
                with conn.begin():
                    yield tx
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        if self._checkpointer is not None:
            self._checkpointer.nudge()
        for callback in tx.committed:
            callback()

    @contextmanager
    def _writer(self) -> Iterator[None]:
        with ExitStack() as locks:
            if self._write_lock is not None:
                locks.enter_context(self._write_lock)
            if self._process_lock is not None:
                locks.enter_context(self._process_lock)
            yield

    @contextmanager
    def _observed(self) -> Iterator[None]:
        observer = self._observer if self._process_lock is not None else None
        if observer is None:
            yield
            return
        observer.entered()
        try:
            yield
        finally:
            observer.left()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
