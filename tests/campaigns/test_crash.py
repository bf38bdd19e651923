"""A 100,000-recipient run killed with SIGKILL mid-snapshot and mid-queueing resumes
after a restart, and every recipient ends with exactly one intent.

`clarion worker` (scheduler, run worker and dispatcher, on the real clock) runs the
campaign; the test kills it three times at different moments and restarts it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clarion.api.app import open_database
from clarion.campaigns import activate, find_campaign
from clarion.clock import SystemClock
from clarion.storage.schema import campaign_recipients, campaign_runs, outbox
from clarion.workspaces import create_workspace
from tests.campaigns.helpers import add_profiles, template
from tests.conftest import WorkerStarter

pytestmark = pytest.mark.slow

RECIPIENTS = 100_000


def wait_until(condition: Callable[[], bool], timeout: float = 240) -> None:
    """Wait for the worker process to get somewhere (it runs on the real clock)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "no progress in time"
        time.sleep(0.01)


def test_sigkill_mid_run_resumes_and_queues_every_recipient_once(
    tmp_path: Path, start_worker: WorkerStarter
) -> None:
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    db = open_database(db_url)
    clock = SystemClock()
    ws = create_workspace(db, clock, "crash").workspace.id
    now = clock.now()
    members = set(
        add_profiles(
            db,
            ws,
            ({"traits": {"first_name": f"P{i}", "member": True}} for i in range(RECIPIENTS)),
            now,
        )
    )
    add_profiles(db, ws, ({"traits": {"member": False}} for _ in range(100)), now)
    with db.write() as tx:
        tx.documents.put(ws, "template", "news", template("news"), now)
        tx.documents.put(
            ws,
            "audience",
            "members",
            {
                "kind": "audience",
                "name": "members",
                "definition": {"trait": {"path": "member", "op": "eq", "value": True}},
            },
            now,
        )
        tx.documents.put(
            ws,
            "campaign",
            "big",
            {"kind": "campaign", "name": "big", "audience": "members", "template": "news"},
            now,
        )
        activate(tx, find_campaign(tx, ws, "big"), now)  # no schedule: a run starts now
    env = {**os.environ, "CLARION_DATABASE_URL": db_url, "CLARION_LEASE_SECONDS": "1"}

    def worker() -> subprocess.Popen[bytes]:
        return start_worker(env)

    def run_state() -> tuple[str, int, int]:
        with db.read() as tx:
            status, queued = tx.conn.execute(
                select(campaign_runs.c.status, campaign_runs.c.queued)
            ).one()
            stored = tx.conn.execute(
                select(func.count()).select_from(campaign_recipients)
            ).scalar_one()
        return status, int(queued), int(stored)

    kills = [
        lambda s: s[0] == "snapshotting" and s[2] > 0,  # part of the snapshot is stored
        lambda s: s[0] == "sending" and s[1] >= 20_000,
        lambda s: s[0] == "sending" and s[1] >= 60_000,
    ]
    seen = []
    try:
        for when in kills:
            process = worker()
            wait_until(lambda w=when: w(run_state()) or run_state()[0] == "delivering")
            process.kill()  # SIGKILL: no cleanup, wherever it is
            process.wait()
            seen.append(run_state())
        process = worker()
        wait_until(lambda: run_state()[0] in ("delivering", "completed"))
        process.terminate()
        process.wait(timeout=60)
        with db.read() as tx:
            rows = tx.conn.execute(
                select(outbox.c.profile_id, func.count()).group_by(outbox.c.profile_id)
            ).all()
            run = tx.conn.execute(select(campaign_runs)).one()
    finally:
        db.close()
    print(f"state at each kill (status, queued, snapshot rows): {seen}")
    assert seen[0][0] == "snapshotting"
    assert all(0 < queued < RECIPIENTS for _status, queued, _rows in seen[1:])
    assert (run.recipients, run.queued, run.targeted) == (RECIPIENTS, RECIPIENTS, RECIPIENTS)
    per_profile = dict(rows)
    assert set(per_profile) == members  # every recipient, and nobody else
    assert set(per_profile.values()) == {1}  # exactly one intent each
