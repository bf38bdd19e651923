"""Hand-off: messages queued already leased to this process's dispatcher and handed to
it when their transaction commits (API-triggered calls), on SQLite and PostgreSQL.

What must hold: nothing is handed before the commit or after a rollback; a handed
message is not claimed by another dispatcher while its lease runs; one handed but
never dispatched (the process died) is claimed once the lease ends and sent once;
a hand-off that takes nothing leaves the messages pending and wakes the dispatcher.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from clarion.campaigns import trigger_calls
from clarion.clock import to_micros
from clarion.delivery import DispatcherLoop
from clarion.delivery.outbox import enqueue_now
from clarion.delivery.runner import HANDOFF_LIMIT
from clarion.model.messages import Category, MessageIntent, MessageSource, QueuedMessage
from clarion.model.outcomes import SourceKind
from clarion.storage.schema import outbox
from clarion.testing import FakeClock
from tests.campaigns.test_trigger import order, setup
from tests.conftest import WorkspaceKeys

TRIGGER = "/v1/campaigns/order-confirmation/trigger"


class Recorder:
    """A `HandOff` that keeps what it is handed (and can refuse)."""

    def __init__(self, lease: float | None = 60) -> None:
        self.lease = lease
        self.handed: list[list[QueuedMessage]] = []
        self.wakes = 0

    def lease_seconds(self) -> float | None:
        return self.lease

    def hand(self, messages: Sequence[QueuedMessage]) -> None:
        self.handed.append(list(messages))

    def wake(self) -> None:
        self.wakes += 1


def row(app: FastAPI, message_id: str) -> Any:
    with app.state.services.db.read() as tx:
        return tx.conn.execute(select(outbox).where(outbox.c.id == message_id)).one()


def trigger(client: TestClient, ws: WorkspaceKeys, request_id: str) -> str:
    body = order(request_id, {"email": f"{request_id}@example.org", "context": {"order": {}}})
    answer = client.post(TRIGGER, json=body, headers=ws.auth)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["recipients"][0]["message_id"])


def intent(workspace_id: str, n: int) -> MessageIntent:
    return MessageIntent(
        workspace_id=workspace_id,
        channel="email",
        template="order-confirmation",
        source=MessageSource(SourceKind.CAMPAIGN, "c", run="run", node=f"row-{n}"),
        address=f"r{n}@example.org",
        category=Category.TRANSACTIONAL,
    )


def test_a_trigger_call_hands_its_leased_message_after_the_commit(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup(app, client, ws)
    services, dispatcher = app.state.services, app.state.dispatcher
    recorder = Recorder(lease=60)
    services.handoff, services.wake_dispatcher = recorder, recorder.wake
    message_id = trigger(client, ws, "h-1")

    assert [[m.id for m in batch] for batch in recorder.handed] == [[message_id]]
    assert recorder.wakes == 0
    stored = row(app, message_id)
    assert (stored.status, stored.attempts) == ("sending", 1)
    assert stored.lease_until == to_micros(clock.now() + timedelta(seconds=60))
    # Leased: no other dispatcher claims it while the lease runs.
    assert asyncio.run(dispatcher.run_once()).claimed == 0

    stats = asyncio.run(dispatcher.dispatch_leased(recorder.handed[0]))
    assert (stats.claimed, stats.sent) == (1, 1)
    assert row(app, message_id).status == "sent"
    captured = client.get("/v1/outbox", headers=ws.auth).json()["items"]
    assert [m["message_id"] for m in captured] == [message_id]
    assert captured[0]["subject"] == "Order  confirmed"


def test_calls_grouped_in_one_commit_hand_their_messages_once(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    services = app.state.services
    recorder = Recorder(lease=60)
    bodies = [order(f"g-{n}", {"email": f"g{n}@example.org"}) for n in range(4)]
    with services.db.write() as tx:
        results = trigger_calls(
            tx, ws.id, "order-confirmation", bodies, services.clock.now(), recorder, recorder.wake
        )
        assert recorder.handed == []
    sent = sorted(answer["recipients"][0]["message_id"] for answer, _ in results)
    assert [sorted(m.id for m in batch) for batch in recorder.handed] == [sent]
    assert recorder.wakes == 0


def test_a_handed_message_whose_dispatcher_died_is_claimed_after_its_lease(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup(app, client, ws)
    services, dispatcher = app.state.services, app.state.dispatcher
    recorder = Recorder(lease=30)
    services.handoff = recorder
    message_id = trigger(client, ws, "h-2")  # handed, never dispatched: the process died
    clock.advance(timedelta(seconds=29))
    assert asyncio.run(dispatcher.run_once()).claimed == 0
    clock.advance(timedelta(seconds=2))
    stats = asyncio.run(dispatcher.run_once())
    assert (stats.claimed, stats.sent) == (1, 1)
    stored = row(app, message_id)
    assert (stored.status, stored.attempts) == ("sent", 2)
    clock.advance(timedelta(minutes=10))
    assert asyncio.run(dispatcher.run_once()).claimed == 0
    captured = client.get("/v1/outbox", headers=ws.auth).json()["items"]
    assert [m["message_id"] for m in captured] == [message_id]


def test_a_hand_off_that_takes_nothing_leaves_them_pending_and_wakes(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    services = app.state.services
    recorder = Recorder(lease=None)
    services.handoff, services.wake_dispatcher = recorder, recorder.wake
    message_id = trigger(client, ws, "h-3")
    assert recorder.handed == [] and recorder.wakes == 1
    assert (row(app, message_id).status, row(app, message_id).attempts) == ("pending", 0)
    stats = asyncio.run(app.state.dispatcher.run_once())
    assert (stats.claimed, stats.sent) == (1, 1)


def test_nothing_is_handed_or_queued_when_the_transaction_rolls_back(
    app: FastAPI, ws: WorkspaceKeys
) -> None:
    services = app.state.services
    recorder = Recorder(lease=60)
    intents = [intent(ws.id, n) for n in range(3)]

    def queue_then_fail() -> None:
        with services.db.write() as tx:
            enqueue_now(tx, intents, services.clock.now(), recorder, recorder.wake)
            assert recorder.handed == []  # not before the commit
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        queue_then_fail()
    assert recorder.handed == [] and recorder.wakes == 0
    with services.db.read() as tx:
        assert tx.outbox.counts(ws.id) == {}
    with services.db.write() as tx:
        new = enqueue_now(tx, intents, services.clock.now(), recorder, recorder.wake)
        again = enqueue_now(tx, intents, services.clock.now(), recorder, recorder.wake)
    assert sorted(new) == sorted(i.message_id for i in intents) and again == []
    assert [sorted(m.id for m in batch) for batch in recorder.handed] == [sorted(new)]


def test_on_commit_runs_after_the_commit_and_never_after_a_rollback(app: FastAPI) -> None:
    db, seen = app.state.services.db, []
    with db.write() as tx:
        tx.on_commit(lambda: seen.append("first"))
        tx.on_commit(lambda: seen.append("second"))
        assert seen == []
    assert seen == ["first", "second"]

    def fail() -> None:
        with db.write() as tx:
            tx.on_commit(lambda: seen.append("rolled back"))
            raise ValueError("rolled back")

    with pytest.raises(ValueError, match="rolled back"):
        fail()
    assert seen == ["first", "second"]


def wait_for(check: Any, timeout: float = 30) -> Any:
    """Poll a condition of the running loop (background work, real threads)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "the condition was not met in time"
        time.sleep(0.01)
    return value


def test_the_dispatcher_loop_sends_what_it_is_handed_without_polling(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    services = app.state.services
    loop = DispatcherLoop(app.state.dispatcher, idle_seconds=3600, polls=False)
    assert loop.lease_seconds() is None  # not running: takes nothing
    loop.start()
    try:
        wait_for(loop.lease_seconds)
        assert loop.lease_seconds() == app.state.dispatcher.lease_seconds
        services.handoff = loop
        ids = [trigger(client, ws, f"loop-{n}") for n in range(5)]
        wait_for(lambda: all(row(app, i).status == "sent" for i in ids))
    finally:
        loop.stop()
    assert loop.lease_seconds() is None
    captured = client.get("/v1/outbox", headers=ws.auth).json()["items"]
    assert sorted(m["message_id"] for m in captured) == sorted(ids)


def test_a_loop_holding_its_limit_takes_no_more(app: FastAPI) -> None:
    loop = DispatcherLoop(app.state.dispatcher, idle_seconds=3600, polls=False)
    loop.start()
    try:
        wait_for(loop.lease_seconds)
        loop._held = HANDOFF_LIMIT  # as if that many were handed and not yet recorded
        assert loop.lease_seconds() is None
        loop._held = HANDOFF_LIMIT - 1
        assert loop.lease_seconds() is not None
        loop._held = 0
    finally:
        loop.stop()
