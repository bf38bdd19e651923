"""Contract tests of filtered polls (`reads`) and of what drain() polls, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from clarion.clock import to_micros
from clarion.model.events import NewEvent
from clarion.processing import consumers
from clarion.processing.consumers import drain, run_once
from clarion.storage.base import ConsumerBatch, EventFilter, Tx
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.events import SKIPPED_LAG, WATERMARK_STEP_US, SqlEventLog
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace

READS = EventFilter(names=frozenset({"Bought"}), prefixes=("message.",))


def _track(message_id: str, event: str) -> NewEvent:
    return NewEvent(type="track", message_id=message_id, event=event, user_id="u1")


class Picky:
    """A consumer reading only `Bought` and `message.*` events; records what it got."""

    def __init__(self, name: str = "picky", after: str | None = None) -> None:
        self.name = name
        self.reads = READS
        if after is not None:
            self.after = after
        self.seen: list[str] = []
        self.polls = 0

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        self.seen.extend(e.message_id for e in batch)


class All:
    """A consumer reading everything; counts its polls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        self.seen.extend(e.message_id for e in batch)


def _append(db: SqlDatabase, ws: str, clock: FakeClock, *events: tuple[str, str]) -> None:
    with db.write() as tx:
        tx.events.append(ws, [_track(m, name) for m, name in events], clock.now())


def _position(db: SqlDatabase, consumer: str) -> tuple[int, int]:
    with db.read() as tx:
        return tx.events.position(consumer)


def _last_position(db: SqlDatabase) -> tuple[int, int]:
    recorder = All("probe")
    positions: list[tuple[int, int]] = []
    recorder.handle = lambda tx, batch: positions.extend(e.position for e in batch)  # type: ignore[method-assign]
    while run_once(db, FakeClock(), recorder):
        pass
    return positions[-1]


def test_a_filtered_poll_returns_only_what_the_consumer_reads(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    _append(
        db,
        ws,
        clock,
        ("t1", "Tick"),
        ("b1", "Bought"),
        ("q1", "message.queued"),
        ("t2", "Tick"),
        ("x1", "messageXqueued"),  # the prefix is literal, not a pattern
        ("t3", "Tick"),
    )
    picky = Picky()
    assert run_once(db, clock, picky) == 2
    assert picky.seen == ["b1", "q1"]
    # Caught up: the cursor moved past the skipped events at the end too.
    assert _position(db, "picky") == _last_position(db)
    assert run_once(db, clock, picky) == 0
    _append(db, ws, clock, ("t4", "Tick"), ("b2", "Bought"), ("t5", "Tick"))
    assert run_once(db, clock, picky) == 1
    assert picky.seen == ["b1", "q1", "b2"]
    assert _position(db, "picky") == _last_position(db)


def test_a_filter_of_all_but_some_names_skips_only_those(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        tx.events.append(
            ws,
            [
                _track("t1", "Tick"),
                _track("e1", "audience.entered"),
                NewEvent(type="identify", message_id="i1", user_id="u1"),  # no name
                _track("x1", "audience.exited"),
                _track("b1", "Bought"),
            ],
            clock.now(),
        )
    skipping = Picky("skipping")
    skipping.reads = EventFilter.all_but("audience.entered", "audience.exited")
    assert run_once(db, clock, skipping) == 3
    assert skipping.seen == ["t1", "i1", "b1"]
    assert _position(db, "skipping") == _last_position(db)
    # `matches` says the same of each logged event as the SQL filter did.
    logged: list[Any] = []
    everything = All("everything")
    everything.handle = lambda tx, batch: logged.extend(batch)  # type: ignore[method-assign]
    while run_once(db, clock, everything):
        pass
    assert [e.message_id for e in logged if skipping.reads.matches(e)] == ["t1", "i1", "b1"]
    assert len(logged) == 5


def test_a_full_filtered_batch_moves_only_to_its_last_event(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    _append(
        db,
        ws,
        clock,
        ("b1", "Bought"),
        ("t1", "Tick"),
        ("b2", "Bought"),
        ("t2", "Tick"),
        ("b3", "Bought"),
        ("t3", "Tick"),
    )
    picky = Picky()
    assert run_once(db, clock, picky, limit=2) == 2
    with db.read() as tx:
        assert tx.events.watermark("picky") == 0  # not known to be caught up
    assert run_once(db, clock, picky, limit=2) == 1
    assert run_once(db, clock, picky, limit=2) == 0
    assert picky.seen == ["b1", "b2", "b3"]
    with db.read() as tx:
        assert tx.events.watermark("picky") == to_micros(clock.now())


def test_a_filtered_watermark_passes_skipped_events(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    picky = Picky()
    run_once(db, clock, picky)
    clock.advance(minutes=5)
    _append(db, ws, clock, ("t1", "Tick"))
    clock.advance(minutes=5)
    with db.read() as tx:
        mark = tx.events.watermark("picky")
    assert mark is not None and mark < to_micros(clock.now() - timedelta(minutes=5))
    assert run_once(db, clock, picky) == 0  # nothing it reads, yet processed
    with db.read() as tx:
        assert tx.events.watermark("picky") == to_micros(clock.now())


def test_a_filtered_stage_moves_no_further_than_its_upstream(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    _append(db, ws, clock, ("t1", "Tick"), ("t2", "Tick"), ("b1", "Bought"), ("t3", "Tick"))
    upstream = All("upstream")
    picky = Picky(after="upstream")
    run_once(db, clock, upstream, limit=2)  # t1 and t2 processed upstream
    assert run_once(db, clock, picky) == 0
    assert _position(db, "picky") == _position(db, "upstream")
    run_once(db, clock, upstream)
    assert run_once(db, clock, picky) == 1
    assert picky.seen == ["b1"]
    assert _position(db, "picky") == _position(db, "upstream") == _last_position(db)


def test_drain_polls_again_only_consumers_that_may_have_more(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    _append(db, ws, clock, *[(f"t{i}", "Tick") for i in range(5)], ("b1", "Bought"))
    upstream, picky = All("upstream"), Picky(after="upstream")
    polls: list[str] = []
    for consumer in (upstream, picky):
        handle = consumer.handle

        def counted(tx: Tx, batch: ConsumerBatch, handle=handle, name=consumer.name) -> None:  # type: ignore[no-untyped-def]
            polls.append(name)
            handle(tx, batch)

        consumer.handle = counted  # type: ignore[method-assign]
    assert drain(db, clock, [upstream, picky], limit=2) == 7
    assert upstream.seen == [*(f"t{i}" for i in range(5)), "b1"]
    assert picky.seen == ["b1"]
    # Batches of 2 upstream: picky polls after each (empty ones commit nothing).
    assert polls == ["upstream", "upstream", "upstream", "picky"]
    assert _position(db, "picky") == _last_position(db)


def test_drain_does_not_poll_a_stage_whose_upstream_had_nothing(
    db: SqlDatabase, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_workspace(db, clock, "a")
    polled: list[str] = []

    def spy(db: SqlDatabase, clock: FakeClock, consumer: All | Picky, limit: int = 1000) -> int:
        polled.append(consumer.name)
        return run_once(db, clock, consumer, limit)

    monkeypatch.setattr(consumers, "run_once", spy)
    assert drain(db, clock, [All("upstream"), Picky(after="upstream")]) == 0
    assert polled == ["upstream", "picky"]  # one round: nobody had anything
    polled.clear()
    ws = create_workspace(db, clock, "b").workspace.id
    _append(db, ws, clock, ("t1", "Tick"))
    assert drain(db, clock, [All("upstream"), Picky(after="upstream")]) == 1
    # The upstream stage processed one event: it looks again (handling may append),
    # the stage after it polls once more, then nothing has changed for either.
    assert polled == ["upstream", "picky", "upstream"]


def test_an_idle_poll_writes_its_watermark_only_in_steps(db: SqlDatabase, clock: FakeClock) -> None:
    create_workspace(db, clock, "a")
    consumer = All("idle")
    run_once(db, clock, consumer)
    first = to_micros(clock.now())
    clock.advance(seconds=WATERMARK_STEP_US / 2_000_000)
    run_once(db, clock, consumer)
    with db.read() as tx:
        assert tx.events.watermark("idle") == first  # half a step: not written
    clock.advance(seconds=WATERMARK_STEP_US / 1_000_000)
    run_once(db, clock, consumer)
    with db.read() as tx:
        assert tx.events.watermark("idle") == to_micros(clock.now())


def test_a_read_first_poll_leaves_a_cursor_another_run_moved_meanwhile(
    db: SqlDatabase, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a filtered consumer polls in a read transaction first; if another run
    of the same consumer moves the cursor before this one writes, this one leaves it:
    moving it back would hand the other run's events over again."""
    if db.dialect != "sqlite":
        pytest.skip("the read-first poll is SQLite's (PostgreSQL has no single write lock)")
    ws = create_workspace(db, clock, "a").workspace.id
    picky = Picky()
    _append(db, ws, clock, ("t0", "Tick"))
    run_once(db, clock, picky)  # the cursor exists, past t0
    _append(db, ws, clock, ("t1", "Tick"), ("t2", "Tick"))
    original = SqlEventLog.poll
    other, interfered = Picky(), []

    def poll(self: SqlEventLog, *args: Any, **kwargs: Any) -> ConsumerBatch:
        batch = original(self, *args, **kwargs)
        if not interfered:  # once: another run takes the next event, after this snapshot
            interfered.append(True)
            _append(db, ws, clock, ("b1", "Bought"))
            assert run_once(db, clock, other) == 1
        return batch

    monkeypatch.setattr(SqlEventLog, "poll", poll)
    assert run_once(db, clock, picky) == 0  # its snapshot held only ticks
    monkeypatch.undo()
    assert other.seen == ["b1"]
    assert _position(db, "picky") == _last_position(db)  # where the other run left it
    assert run_once(db, clock, picky) == 0
    assert picky.seen == []  # b1 is not handed over twice


def test_a_read_first_poll_that_finds_nothing_writes_only_the_cursor(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    picky = Picky()
    _append(db, ws, clock, ("t0", "Tick"))
    run_once(db, clock, picky)  # the cursor exists, past t0
    _append(db, ws, clock, ("t1", "Tick"), ("t2", "Tick"))
    clock.advance(seconds=1)
    assert run_once(db, clock, picky) == 0
    assert _position(db, "picky") == _last_position(db)
    with db.read() as tx:
        assert tx.events.watermark("picky") == to_micros(clock.now())
    _append(db, ws, clock, ("b1", "Bought"))
    assert run_once(db, clock, picky) == 1
    assert picky.seen == ["b1"]


def test_a_read_first_poll_that_skipped_a_few_events_within_a_step_writes_nothing(
    db: SqlDatabase, clock: FakeClock
) -> None:
    """Moving a cursor past a few skipped events is not worth the write lock: the next
    poll reads them again and skips them again. Past `SKIPPED_LAG` events, or a
    watermark step later, it moves; nothing is handed over twice or lost meanwhile."""
    if db.dialect != "sqlite":
        pytest.skip("the read-first poll is SQLite's (PostgreSQL has no single write lock)")
    ws = create_workspace(db, clock, "a").workspace.id
    picky = Picky()
    _append(db, ws, clock, ("t0", "Tick"))
    run_once(db, clock, picky)  # the cursor exists, past t0
    start = _position(db, "picky")
    _append(db, ws, clock, *((f"t{i}", "Tick") for i in range(1, 11)))
    assert run_once(db, clock, picky) == 0
    assert _position(db, "picky") == start  # ten skipped, no step: not written
    _append(db, ws, clock, ("b1", "Bought"))
    assert run_once(db, clock, picky) == 1
    assert picky.seen == ["b1"]
    assert _position(db, "picky") == _last_position(db)
    start = _position(db, "picky")
    _append(db, ws, clock, *((f"u{i}", "Tick") for i in range(SKIPPED_LAG)))
    assert run_once(db, clock, picky) == 0
    assert _position(db, "picky") == _last_position(db)  # a lag's worth: written
    _append(db, ws, clock, ("v1", "Tick"))
    clock.advance(seconds=WATERMARK_STEP_US / 1_000_000)
    assert run_once(db, clock, picky) == 0
    assert _position(db, "picky") == _last_position(db)  # a watermark step: written
    assert picky.seen == ["b1"]
