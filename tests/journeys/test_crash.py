"""The journey engine killed with SIGKILL at random moments loses and repeats nothing.

10,000 profiles enter a 5-step journey with waits; the `clarion worker` running
it is killed four times mid-run and restarted. In the end every profile has
completed at the end node, and every message intent exists exactly once.
"""

from __future__ import annotations

import os
import random  # noqa: TID251 - the kill moments, seeded
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from clarion.api.app import open_database
from clarion.api.runtime import builtin_kinds
from clarion.clock import SystemClock
from clarion.documents import KindRegistry, apply_documents
from clarion.journeys import lifecycle
from clarion.model.events import NewEvent
from clarion.storage.schema import journey_instances, outbox
from clarion.workspaces import create_workspace
from tests.conftest import WorkerStarter

pytestmark = pytest.mark.slow

PROFILES = 10_000
DOCUMENTS: list[dict[str, Any]] = [
    {"kind": "template", "name": "hello", "channel": "sms", "body": "Hello {{ profile.id }}"},
    {
        "kind": "journey",
        "name": "crash",
        "entry": {"type": "event", "event": "Joined"},
        "nodes": [
            {
                "id": "welcome",
                "type": "message",
                "channel": "sms",
                "template": "hello",
                "category": "transactional",
                "next": "pause",
            },
            {"id": "pause", "type": "wait", "duration": "2s", "next": "mark"},
            {"id": "mark", "type": "update_profile", "set": {"welcomed": True}, "next": "again"},
            {
                "id": "again",
                "type": "message",
                "channel": "sms",
                "template": "hello",
                "category": "transactional",
                "next": "done",
            },
            {"id": "done", "type": "end"},
        ],
    },
]


def wait_until(condition: Any, timeout: float = 600) -> None:
    """Wait for the worker process (it runs on the real clock) to get there."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "no progress in time"
        time.sleep(0.05)


def test_sigkill_during_a_journey_run(tmp_path: Path, start_worker: WorkerStarter) -> None:
    db_url = f"sqlite:///{tmp_path / 'journey-crash.db'}"
    db = open_database(db_url)
    clock = SystemClock()
    workspace = create_workspace(db, clock, "crash").workspace.id
    with db.write() as tx:
        apply_documents(tx, KindRegistry(builtin_kinds()), workspace, DOCUMENTS, clock.now())
        lifecycle.publish(tx, workspace, "crash", clock.now())
    for start in range(0, PROFILES, 1000):
        with db.write() as tx:
            tx.events.append(
                workspace,
                [
                    event
                    for n in range(start, start + 1000)
                    for event in (
                        NewEvent(
                            type="identify",
                            message_id=f"who-{n}",
                            user_id=f"user-{n}",
                            payload={"traits": {"phone": f"+467{n:08d}"}},
                        ),
                        NewEvent(
                            type="track",
                            message_id=f"join-{n}",
                            event="Joined",
                            user_id=f"user-{n}",
                        ),
                    )
                ],
                clock.now(),
            )

    def count(query: Any) -> int:
        with db.read() as tx:
            return int(tx.conn.execute(query).scalar_one())

    completed = (
        select(func.count())
        .select_from(journey_instances)
        .where(journey_instances.c.status == "completed")
    )
    progress = select(func.count()).select_from(outbox)
    env = {**os.environ, "CLARION_DATABASE_URL": db_url, "CLARION_LEASE_SECONDS": "1"}

    def worker() -> subprocess.Popen[bytes]:
        return start_worker(env)

    rng = random.Random(7)
    states = []
    for _kill in range(4):
        process = worker()
        target = count(progress) + rng.randint(1000, 4000)
        wait_until(lambda t=target: count(progress) >= t or count(completed) == PROFILES)
        process.kill()
        process.wait()
        states.append(count(completed))
    process = worker()
    wait_until(lambda: count(completed) == PROFILES)
    wait_until(
        lambda: (
            count(select(func.count()).select_from(outbox).where(outbox.c.status == "sent"))
            == 2 * PROFILES
        )
    )
    process.terminate()
    process.wait(timeout=60)

    assert any(done < PROFILES for done in states)  # the kills came mid-run
    with db.read() as tx:
        per_profile = dict(
            tx.conn.execute(
                select(outbox.c.profile_id, func.count()).group_by(outbox.c.profile_id)
            ).all()
        )
        nodes = dict(
            tx.conn.execute(
                select(journey_instances.c.node, func.count()).group_by(journey_instances.c.node)
            ).all()
        )
        instances = int(
            tx.conn.execute(select(func.count()).select_from(journey_instances)).scalar_one()
        )
    assert instances == PROFILES  # nobody entered twice
    assert nodes == {"done": PROFILES}
    assert len(per_profile) == PROFILES and set(per_profile.values()) == {2}
    db.close()
