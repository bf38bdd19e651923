"""Which commits wait for the disk: intake always, a log consumer's batch not on SQLite."""

from __future__ import annotations

import pytest

from clarion.clock import SystemClock
from clarion.model.events import NewEvent
from clarion.processing.consumers import run_once
from clarion.storage.base import ConsumerBatch, Tx
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.engine import SQLITE_CACHE_KIB
from clarion.workspaces import create_workspace

FULL, NORMAL = 2, 1


def synchronous(tx: Tx) -> int:
    return int(tx.conn.exec_driver_sql("PRAGMA synchronous").scalar_one())  # type: ignore[attr-defined]


def test_writes_are_durable_unless_asked_and_the_setting_does_not_leak(
    sqlite_db: SqlDatabase,
) -> None:
    with sqlite_db.write() as tx:
        assert synchronous(tx) == FULL
    with sqlite_db.write(durable=False) as tx:
        assert synchronous(tx) == NORMAL
    with pytest.raises(RuntimeError), sqlite_db.write(durable=False) as tx:
        raise RuntimeError("a failed batch")
    # Every pooled connection is back to FULL: intake commits still survive a power cut.
    for _ in range(3):
        with sqlite_db.write() as tx:
            assert synchronous(tx) == FULL
        with sqlite_db.read() as tx:
            assert synchronous(tx) == FULL


class Recorder:
    """A consumer that notes the commit setting its batches run under."""

    name = "recorder"

    def __init__(self) -> None:
        self.settings: list[int] = []

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        self.settings.append(synchronous(tx))


def test_a_consumer_batch_commits_without_waiting_for_the_disk(sqlite_db: SqlDatabase) -> None:
    clock = SystemClock()
    workspace = create_workspace(sqlite_db, clock, "Acme").workspace.id
    with sqlite_db.write() as tx:
        tx.events.append(
            workspace, [NewEvent(type="track", message_id="m1", event="A")], clock.now()
        )
    consumer = Recorder()
    assert run_once(sqlite_db, clock, consumer) == 1
    assert consumer.settings == [NORMAL]


def test_every_sqlite_connection_has_the_larger_page_cache(sqlite_db: SqlDatabase) -> None:
    for _ in range(3):  # pooled connections, for writes and reads alike
        with sqlite_db.write() as tx:
            cache = tx.conn.exec_driver_sql("PRAGMA cache_size").scalar_one()  # type: ignore[attr-defined]
            assert cache == -SQLITE_CACHE_KIB and SQLITE_CACHE_KIB > 2000  # SQLite's default
        with sqlite_db.read() as tx:
            cache = tx.conn.exec_driver_sql("PRAGMA cache_size").scalar_one()  # type: ignore[attr-defined]
            assert cache == -SQLITE_CACHE_KIB
