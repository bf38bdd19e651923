"""Runs: resumed after a crash without sending twice; work tables cleaned after retention."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.orchestrated import CanvasService
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.orchestrated.test_issue_canvases import expected_pre_arrival, setup_chain


def _outbox(app: FastAPI, ws: WorkspaceKeys) -> int:
    with app.state.services.db.read() as tx:
        return sum(tx.outbox.counts(ws.id).values())


def test_a_run_killed_mid_sending_resumes_at_its_cursor_and_sends_once(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    chain, ids = setup_chain(app, client, ws, clock)
    _flows, eligible = expected_pre_arrival(chain, clock.now(), ids)
    service: CanvasService = app.state.services.extras["canvases"]
    service.chunk = 3
    run = service.start_run(ws.id, "pre-arrival")
    # The worker claims the run, computes, queues two chunks, and dies (no exception,
    # no cleanup: the lease is simply never released).
    now_us = int(clock.now().timestamp() * 1e6)
    with app.state.services.db.write() as tx:
        (claimed,) = tx.canvases.claim_runs(now_us, 1, now_us + service.lease_us)
    prepared = service.prepare(ws.id, claimed.canvas_id, claimed.version)
    service._start(claimed, prepared)
    executor = service.executor(ws.id, prepared, dict(claimed.state["tables"]))
    (activity,) = [a for a in prepared.spec.activities if a.id == "send"]
    progress = claimed.state["sending"]["send"]
    for _ in range(2):
        service._send_chunk(claimed, executor, activity, progress, timedelta())  # type: ignore[arg-type]
    assert _outbox(app, ws) == 6
    service.drain()
    assert service.run(ws.id, run.id).status == "sending"  # leased by the dead worker
    clock.advance(seconds=service.lease_us / 1e6 + 1)
    service.drain()
    done = service.run(ws.id, run.id)
    assert done.status == "completed"
    assert done.state["sending"]["send"]["queued"] == len(eligible)
    assert _outbox(app, ws) == len(eligible)
    # A lost cursor replays every chunk: message ids come from the run and the row.
    with app.state.services.db.write() as tx:
        done.status = "sending"
        done.state["sending"]["send"]["queued"] = 0
        tx.canvases.save_run(done)
    service.drain()
    assert _outbox(app, ws) == len(eligible)


def test_work_tables_are_dropped_after_the_retention(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup_chain(app, client, ws, clock)
    service: CanvasService = app.state.services.extras["canvases"]
    calc = client.post("/v1/canvases/pre-arrival/calculate", headers=ws.auth).json()
    found = service.run(ws.id, calc["id"])
    source = next(iter(service.sources._open.values()))
    tables = {t for t in found.state["tables"].values() if source.has_table(t)}
    assert tables  # steps that pass their input on share its table
    assert service.cleanup() == 0  # still within the retention
    clock.advance(service.retention + timedelta(minutes=1))
    assert service.cleanup() == 1
    assert not any(source.has_table(t) for t in tables)
    assert service.run(ws.id, calc["id"]).cleaned_at is not None
    # A run now cannot reuse the calculation: it computes afresh (a day later, other
    # bookings are upcoming) and says how its counts differ.
    again = client.post("/v1/canvases/pre-arrival/run?wait=true", headers=ws.auth).json()
    assert again["status"] == "completed"
    assert again["calculation"] is None and again["compared_with"] == calc["id"]
    expected = {
        key: {"calculated": calc["counts"][key], "run": again["counts"][key]}
        for key in calc["counts"]
        if calc["counts"][key] != again["counts"][key]
    }
    assert expected and again["differences"]["counts"] == expected
