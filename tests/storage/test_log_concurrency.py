"""A consumer never skips an event that commits late (PostgreSQL, concurrent writers)."""

from __future__ import annotations

import itertools
import multiprocessing
import random  # noqa: TID251 - writer interleaving, seeded
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import text

from clarion.clock import SystemClock, to_micros
from clarion.model.events import NewEvent
from clarion.processing.consumers import run_once
from clarion.storage.base import ConsumerBatch, EventFilter, Tx
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace
from tests.conftest import empty_tables

pytestmark = pytest.mark.postgres


class Recorder:
    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.seen: list[str] = []
        self.positions: list[tuple[int, int]] = []

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        self.seen.extend(e.message_id for e in batch)
        self.positions.extend(e.position for e in batch)


def _event(message_id: str) -> NewEvent:
    return NewEvent(type="track", message_id=message_id, event="Tick", user_id="u")


class Held:
    """Write transactions a test holds open; any still open at teardown are rolled back,
    so a failed assertion cannot leave a transaction that blocks the next test."""

    def __init__(self, database: SqlDatabase) -> None:
        self.database = database
        self.open: list[AbstractContextManager[Tx]] = []

    def begin(self) -> tuple[Tx, AbstractContextManager[Tx]]:
        context = self.database.write()
        tx = context.__enter__()
        self.open.append(context)
        return tx, context

    def commit(self, context: AbstractContextManager[Tx]) -> None:
        self.open.remove(context)
        context.__exit__(None, None, None)

    def roll_back_all(self) -> None:
        while self.open:
            error = RuntimeError("test ended with the transaction open")
            self.open.pop().__exit__(RuntimeError, error, None)


@pytest.fixture
def pg(pg_url: str) -> Iterator[SqlDatabase]:
    database = SqlDatabase.from_url(pg_url)
    empty_tables(database)
    yield database
    database.close()


@pytest.fixture
def held(pg: SqlDatabase) -> Iterator[Held]:
    holder = Held(pg)
    try:
        yield holder
    finally:
        holder.roll_back_all()


def test_lower_sequence_committing_late_is_not_skipped(
    pg: SqlDatabase, held: Held, clock: FakeClock
) -> None:
    ws = create_workspace(pg, clock, "a").workspace.id
    recorder = Recorder()
    slow_tx, slow = held.begin()
    slow_tx.events.append(ws, [_event("slow")], clock.now())  # takes the lower seq, stays open
    with pg.write() as tx:
        tx.events.append(ws, [_event("fast")], clock.now())  # higher seq, committed first
    run_once(pg, clock, recorder)
    assert recorder.seen == []  # nothing may be read past the open transaction
    held.commit(slow)
    run_once(pg, clock, recorder)
    assert sorted(recorder.seen) == ["fast", "slow"]
    assert run_once(pg, clock, recorder) == 0


def test_older_transaction_id_with_higher_sequence(
    pg: SqlDatabase, held: Held, clock: FakeClock
) -> None:
    ws = create_workspace(pg, clock, "a").workspace.id
    recorder = Recorder()
    early_tx, early = held.begin()
    early_tx.conn.execute(text("SELECT txid_current()"))  # the older transaction id
    late_tx, late = held.begin()
    late_tx.events.append(ws, [_event("late-txid-low-seq")], clock.now())
    early_tx.events.append(ws, [_event("early-txid-high-seq")], clock.now())
    held.commit(early)
    run_once(pg, clock, recorder)
    assert recorder.seen == ["early-txid-high-seq"]
    held.commit(late)
    run_once(pg, clock, recorder)
    assert recorder.seen == ["early-txid-high-seq", "late-txid-low-seq"]


def test_watermark_stays_below_an_open_append(
    pg: SqlDatabase, held: Held, clock: FakeClock
) -> None:
    ws = create_workspace(pg, clock, "a").workspace.id
    recorder = Recorder()
    tx, open_append = held.begin()
    appended_at = clock.now()
    tx.events.append(ws, [_event("pending")], appended_at)
    clock.advance(minutes=10)
    run_once(pg, clock, recorder)
    run_once(pg, clock, recorder)
    with pg.read() as read:
        mark = read.events.watermark("recorder")
    assert mark is not None and mark < to_micros(appended_at)
    held.commit(open_append)
    clock.advance(minutes=1)
    run_once(pg, clock, recorder)
    run_once(pg, clock, recorder)
    with pg.read() as read:
        assert read.events.watermark("recorder") == to_micros(clock.now())
    assert recorder.seen == ["pending"]


class Filtered(Recorder):
    """A recorder that reads only `Tick` events."""

    reads = EventFilter(names=frozenset({"Tick"}))


def _other(message_id: str) -> NewEvent:
    return NewEvent(type="track", message_id=message_id, event="Other", user_id="u")


def test_a_filtered_poll_does_not_move_past_an_open_append(
    pg: SqlDatabase, held: Held, clock: FakeClock
) -> None:
    ws = create_workspace(pg, clock, "a").workspace.id
    recorder = Filtered()
    slow_tx, slow = held.begin()
    slow_tx.events.append(ws, [_event("slow")], clock.now())  # lower seq, commits last
    with pg.write() as tx:
        tx.events.append(ws, [_other("skipped"), _event("fast"), _other("skipped-2")], clock.now())
    run_once(pg, clock, recorder)
    assert recorder.seen == []
    with pg.read() as tx:
        assert tx.events.position("recorder") == (0, 0)  # skipped rows beyond xmin stay ahead
    held.commit(slow)
    run_once(pg, clock, recorder)
    assert sorted(recorder.seen) == ["fast", "slow"]
    assert run_once(pg, clock, recorder) == 0


def test_a_filtered_cursor_past_skipped_rows_still_sees_a_late_commit(
    pg: SqlDatabase, held: Held, clock: FakeClock
) -> None:
    ws = create_workspace(pg, clock, "a").workspace.id
    recorder = Filtered()
    early_tx, early = held.begin()
    early_tx.conn.execute(text("SELECT txid_current()"))  # the older transaction id
    late_tx, late = held.begin()
    late_tx.events.append(ws, [_event("late-txid-low-seq")], clock.now())
    early_tx.events.append(ws, [_other("early-skipped")], clock.now())
    held.commit(early)
    run_once(pg, clock, recorder)
    assert recorder.seen == []
    with pg.read() as tx:
        moved_to = tx.events.position("recorder")
    assert moved_to != (0, 0)  # past the skipped row of the finished transaction
    held.commit(late)
    clock.advance(minutes=1)
    run_once(pg, clock, recorder)
    run_once(pg, clock, recorder)
    assert recorder.seen == ["late-txid-low-seq"]
    with pg.read() as tx:
        assert tx.events.position("recorder") > moved_to
        assert tx.events.watermark("recorder") == to_micros(clock.now())


def _take_an_older_id_than_a_committed_append(tx: Any, started: Any) -> None:
    """Make the hazard certain once: take a transaction id, let the other writers
    start, and wait until one of their appends (a newer id) has committed; this
    append then has a higher sequence number and an older transaction id, so it comes
    before that one in the consumers' order."""
    mine = tx.conn.execute(text("SELECT txid_current()")).scalar_one()
    started.set()
    newer = text("SELECT 1 FROM events WHERE txid > :mine LIMIT 1")
    for _ in range(1_000_000):  # the others append 60 batches each: a few ms at most
        if tx.conn.execute(newer, {"mine": mine}).first() is not None:
            return
    raise AssertionError("no other writer committed")


def _writer(url: str, workspace_id: str, writer: int, batches: int, started: Any) -> None:
    rng = random.Random(writer)
    database = SqlDatabase.from_url(url)
    clock = SystemClock()
    if writer != 0:
        assert started.wait(60), "writer 0 did not start"
    for b in range(batches):
        with database.write() as tx:
            if writer == 0 and b == 0:
                _take_an_older_id_than_a_committed_append(tx, started)
            size = rng.randint(1, 20)
            tx.events.append(
                workspace_id,
                [_event(f"w{writer}-b{b}-{i}") for i in range(size)],
                clock.now(),
            )
            # Keep some transactions open a while so that later ones commit first.
            for _ in range(rng.choice([0, 0, 5, 50])):
                tx.conn.execute(text("SELECT 1"))
    database.close()


@pytest.mark.slow
def test_concurrent_writer_processes_never_lose_an_event(pg: SqlDatabase, pg_url: str) -> None:
    clock = SystemClock()
    ws = create_workspace(pg, clock, "a").workspace.id
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    writers = [context.Process(target=_writer, args=(pg_url, ws, n, 60, started)) for n in range(4)]
    for process in writers:
        process.start()
    recorder = Recorder()
    while any(p.is_alive() for p in writers):
        run_once(pg, clock, recorder, limit=37)
    for process in writers:
        process.join()
        assert process.exitcode == 0
    while run_once(pg, clock, recorder, limit=37):
        pass
    with pg.read() as tx:
        stored = {r[0] for r in tx.conn.execute(text("SELECT message_id FROM events"))}
    assert len(recorder.seen) == len(set(recorder.seen)), "an event was delivered twice"
    assert set(recorder.seen) == stored, "an event was skipped"
    assert recorder.positions == sorted(recorder.positions)
    seqs = [seq for _txid, seq in recorder.positions]
    inversions = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
    # The hazard happened (writer 0 makes sure of it once): some events committed
    # after higher sequence numbers.
    assert inversions > 0
