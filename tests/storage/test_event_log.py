"""Contract tests of the event log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clarion.clock import to_micros
from clarion.model.events import NewEvent
from clarion.processing.consumers import run_once
from clarion.storage.base import ConsumerBatch, Tx
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace


def _track(message_id: str, event: str = "Order Completed", **kw: object) -> NewEvent:
    return NewEvent(type="track", message_id=message_id, event=event, user_id="u1", **kw)  # type: ignore[arg-type]


class Recorder:
    """A consumer that records what it saw."""

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.seen: list[str] = []

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        self.seen.extend(e.message_id for e in batch)


def test_append_stores_events_in_order_and_deduplicates(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        first = tx.events.append(ws, [_track("m1"), _track("m2"), _track("m1")], clock.now())
    assert [a.message_id for a in first] == ["m1", "m2", "m1"]
    assert first[0].seq is not None and first[1].seq is not None
    assert first[0].seq < first[1].seq
    assert first[2].seq is None  # the repeat inside one batch is a duplicate
    with db.write() as tx:
        again = tx.events.append(ws, [_track("m2"), _track("m3")], clock.now())
    assert again[0].seq is None and again[1].seq is not None
    recorder = Recorder()
    run_once(db, clock, recorder)
    assert recorder.seen == ["m1", "m2", "m3"]


def test_same_message_id_in_two_workspaces_is_two_events(db: SqlDatabase, clock: FakeClock) -> None:
    a = create_workspace(db, clock, "a").workspace.id
    b = create_workspace(db, clock, "b").workspace.id
    with db.write() as tx:
        assert tx.events.append(a, [_track("same")], clock.now())[0].seq is not None
        assert tx.events.append(b, [_track("same")], clock.now())[0].seq is not None


def test_timestamps_are_corrected_for_device_clock_skew(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    now = clock.now()
    # The device clock runs 1 hour fast: it says it sent at now+1h an event of now+1h-5m.
    skewed = _track("skew", timestamp=now + timedelta(minutes=55), sent_at=now + timedelta(hours=1))
    future = _track("future", timestamp=now + timedelta(days=3))
    with db.write() as tx:
        tx.events.append(ws, [skewed, future], now)
    recorder = Recorder()
    seen = {}

    def handle(tx: Tx, batch: ConsumerBatch) -> None:
        seen.update({e.message_id: e for e in batch})

    recorder.handle = handle  # type: ignore[method-assign]
    run_once(db, clock, recorder)
    assert seen["skew"].timestamp_us == to_micros(now - timedelta(minutes=5))
    assert seen["future"].timestamp_us == to_micros(now)  # never later than receivedAt
    assert seen["skew"].received_at_us == to_micros(now)


def test_consumer_cursor_commits_with_its_writes(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        tx.events.append(ws, [_track(f"m{i}") for i in range(5)], clock.now())

    class Failing(Recorder):
        def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
            raise RuntimeError("crash in the middle of a batch")

    with pytest.raises(RuntimeError):
        run_once(db, clock, Failing("c"), limit=3)
    with db.read() as tx:
        assert tx.events.position("c") == (0, 0)  # nothing moved: the batch comes again
    recorder = Recorder("c")
    assert run_once(db, clock, recorder, limit=3) == 3
    assert run_once(db, clock, recorder, limit=3) == 2
    assert run_once(db, clock, recorder, limit=3) == 0
    assert recorder.seen == [f"m{i}" for i in range(5)]


def test_consumers_have_independent_cursors(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        tx.events.append(ws, [_track("m1"), _track("m2")], clock.now())
    one, two = Recorder("one"), Recorder("two")
    run_once(db, clock, one, limit=1)
    run_once(db, clock, two)
    assert one.seen == ["m1"] and two.seen == ["m1", "m2"]


def test_watermark_follows_what_has_been_processed(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    recorder = Recorder()
    with db.read() as tx:
        assert tx.events.watermark("recorder") is None
    run_once(db, clock, recorder)
    with db.read() as tx:
        assert tx.events.watermark("recorder") == to_micros(clock.now())
    clock.advance(minutes=5)
    with db.write() as tx:
        tx.events.append(ws, [_track("late")], clock.now())
    clock.advance(minutes=5)
    # An unprocessed event received at T+5m holds the watermark below it.
    with db.read() as tx:
        mark = tx.events.watermark("recorder")
    assert mark is not None and mark < to_micros(clock.now() - timedelta(minutes=5))
    run_once(db, clock, recorder)
    with db.read() as tx:
        assert tx.events.watermark("recorder") == to_micros(clock.now())


def test_watermark_waits_while_a_batch_is_not_caught_up(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        tx.events.append(ws, [_track(f"m{i}") for i in range(4)], clock.now())
    clock.advance(minutes=1)
    recorder = Recorder()
    run_once(db, clock, recorder, limit=2)
    with db.read() as tx:
        assert tx.events.watermark("recorder") == 0
    run_once(db, clock, recorder, limit=2)  # exactly the rest: still not known to be caught up
    run_once(db, clock, recorder, limit=2)
    with db.read() as tx:
        assert tx.events.watermark("recorder") == to_micros(clock.now())


def test_erasure_hook_removes_a_profiles_events(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        tx.events.append(
            ws,
            [_track("p1", profile_id="P1"), _track("p2", profile_id="P2")],
            clock.now(),
        )
        erased = tx.erase_profile(ws, "P1")
    assert erased["events"] == 1
    recorder = Recorder()
    run_once(db, clock, recorder)
    assert recorder.seen == ["p2"]


def test_append_without_seqs_stores_the_same_and_returns_nothing(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    props = {"total": 12.5, "items": [{"sku": "a"}], "note": None}
    with db.write() as tx:
        quiet = tx.events.append(
            ws,
            [_track("q1", properties=props, profile_id="p1"), _track("q2"), _track("q1")],
            clock.now(),
            seqs=False,
        )
        repeated = tx.events.append(ws, [_track("q2"), _track("q3")], clock.now(), seqs=False)
    assert quiet == [] and repeated == []
    recorder = Recorder()
    run_once(db, clock, recorder)
    assert recorder.seen == ["q1", "q2", "q3"]  # each once, in order
    with db.read() as tx:
        [stored] = tx.events.for_profile(ws, "p1", 10)
    assert stored.message_id == "q1" and stored.properties == props
    assert stored.timestamp_us == stored.received_at_us == to_micros(clock.now())
