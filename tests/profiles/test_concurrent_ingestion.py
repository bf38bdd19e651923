"""Profiles merge correctly while several processes ingest at once (PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from clarion.api.app import create_app
from clarion.clock import SystemClock
from clarion.storage.schema import events, identities, profiles
from clarion.storage.sql import SqlDatabase
from tests.conftest import LiveServer, empty_tables, make_workspace, settings_for_tests

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

USERS = 30
DEVICES = 3


def _device(url: str, write_key: str, device: int) -> None:
    """One device per process: each user browses anonymously, then signs in."""
    with httpx.Client(base_url=url, auth=(write_key, ""), timeout=60) as http:
        for user in range(USERS):
            anon = f"{user}-{device}"
            batch = [{"type": "track", "anonymousId": anon, "event": f"View {n}"} for n in range(3)]
            batch.append(
                {
                    "type": "identify",
                    "userId": f"user-{user}",
                    "anonymousId": anon,
                    "traits": {f"device_{device}": True},
                }
            )
            batch.append({"type": "track", "userId": f"user-{user}", "event": "Bought"})
            for item in batch:  # one request per message: the most interleaving
                assert http.post("/v1/batch", json={"batch": [item]}).status_code == 200


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[FastAPI]:
    db = SqlDatabase.from_url(pg_url)
    empty_tables(db)
    settings = settings_for_tests()
    settings.workers = True  # the identity stage runs in the server while devices send
    yield create_app(settings, db=db, clock=SystemClock())
    db.close()


def test_merges_under_concurrent_ingestion(pg_app: FastAPI) -> None:
    ws = make_workspace(pg_app)
    with LiveServer(pg_app) as server:
        context = multiprocessing.get_context("spawn")
        senders = [
            context.Process(target=_device, args=(server.url, ws.write_key, d))
            for d in range(DEVICES)
        ]
        for process in senders:
            process.start()
        for process in senders:
            process.join()
            assert process.exitcode == 0
    from clarion.api.runtime import consumers
    from clarion.processing.consumers import drain

    services = pg_app.state.services
    drain(services.db, services.clock, consumers(services.clock))
    with services.db.engine.connect() as conn:
        owners = dict(conn.execute(select(identities.c.value, identities.c.profile_id)).all())
        live = {r.id: r.traits for r in conn.execute(select(profiles.c.id, profiles.c.traits))}
        stamps = conn.execute(
            select(events.c.profile_id, events.c.user_id, events.c.anonymous_id, events.c.event)
        ).all()
    assert len(live) == USERS  # every anonymous profile was merged into its user
    for user in range(USERS):
        pid = owners[f"user-{user}"]
        assert {owners[f"{user}-{d}"] for d in range(DEVICES)} == {pid}
        assert live[pid] == {f"device_{d}": True for d in range(DEVICES)}
    for profile_id, user_id, anonymous_id, name in stamps:
        assert profile_id in live, f"{name} stamped with a deleted profile"
        key = user_id if user_id else anonymous_id
        if name and name.startswith("profile."):
            continue
        assert profile_id == owners[key]
