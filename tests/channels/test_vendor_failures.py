"""Vendor failures through the dispatcher: retried, failed or suppressed, never lost.

A local Twilio answers as scripted, one answer per attempt: 429 with
Retry-After, 503, a hang past the outbound timeout, then 201. The message waits
exactly as long as the vendor asked, is retried with the same message id, and
ends sent once; a refusal that can never succeed ends in `message.failed`; a
vendor that never recovers exhausts the attempts and ends in `message.failed`
too. Time is the fake clock's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.delivery import DispatchStats
from clarion.outbound import OutboundPolicy
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys, make_workspace, settings_for_tests
from tests.delivery.harness import apply, identify, outcome_events, send, status
from tests.outbound.server import Recorded, Reply, VendorServer


def deliver(app: FastAPI) -> DispatchStats:
    """One dispatcher pass on its own event loop; the providers' connections close with it
    (as when the dispatcher loop stops), since the next pass runs on another loop."""

    async def run() -> DispatchStats:
        try:
            return await app.state.dispatcher.run_once()
        finally:
            await app.state.services.providers.close()

    return asyncio.run(run())


class Script:
    """Answers in order, then the last answer forever; a hang waits on `release`."""

    def __init__(self, *replies: Reply | str) -> None:
        self.replies = list(replies)
        self.release = threading.Event()

    def __call__(self, request: Recorded) -> Reply:
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply == "hang":
            return Reply(201, {"sid": "late"}, wait=self.release)
        assert isinstance(reply, Reply)
        return reply


@pytest.fixture
def app(sqlite_db: SqlDatabase, clock: FakeClock) -> FastAPI:
    app = create_app(settings_for_tests(outbound_allow="127.0.0.1"), db=sqlite_db, clock=clock)
    # Vendor calls give up after 0.3 s here (10 s by default).
    app.state.services.extras["outbound"].policy = OutboundPolicy.allowing("127.0.0.1", timeout=0.3)
    return app


@pytest.fixture
def ws(app: FastAPI) -> WorkspaceKeys:
    return make_workspace(app)


@pytest.fixture
def twilio(request: pytest.FixtureRequest) -> Iterator[tuple[VendorServer, Script]]:
    script: Script = request.param
    with VendorServer(script) as server:
        try:
            yield server, script
        finally:
            script.release.set()


def setup_sms(client: TestClient, ws: WorkspaceKeys, server: VendorServer) -> str:
    settings = {"account_sid": "AC1", "auth_token": "t", "from": "+1555", "api_url": server.url}
    answer = client.put(
        "/v1/channels/sms", headers=ws.auth, json={"provider": "twilio", "settings": settings}
    )
    assert answer.status_code == 200, answer.text
    apply(client, ws, {"kind": "template", "name": "promo", "channel": "sms", "body": "Sale"})
    return identify(client, ws, "ann", phone="+46701112233")


RECOVERS = Script(
    Reply(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "120"}),
    Reply(503, {"message": "Service Unavailable"}),
    "hang",
    Reply(201, {"sid": "SM42", "status": "queued"}),
)


@pytest.mark.parametrize("twilio", [RECOVERS], indirect=True)
def test_429_5xx_and_timeouts_are_retried_until_sent_once(
    app: FastAPI,
    client: TestClient,
    ws: WorkspaceKeys,
    clock: FakeClock,
    twilio: tuple[VendorServer, Script],
) -> None:
    server, script = twilio
    pid = setup_sms(client, ws, server)
    mid = send(client, ws, channel="sms", template="promo", profile_id=pid)

    assert deliver(app).retried == 1  # 429: wait as long as Twilio asked
    waiting = status(client, ws, mid)
    assert waiting["status"] == "pending" and waiting["reason"].startswith("retry: http 429")
    clock.advance(seconds=119)
    assert deliver(app).claimed == 0
    clock.advance(seconds=1)
    assert deliver(app).retried == 1  # 503: back off (attempt 2: 60 s)
    clock.advance(seconds=60)
    assert deliver(app).retried == 1  # no answer within the timeout
    script.release.set()
    assert "OutboundTimeout" in status(client, ws, mid)["reason"]
    clock.advance(seconds=120)
    stats = deliver(app)
    assert (stats.sent, stats.retried, stats.failed) == (1, 0, 0)
    done = status(client, ws, mid)
    assert (done["status"], done["provider_message_id"], done["attempts"]) == ("sent", "SM42", 4)
    posted = [r.form()["To"] for r in server.requests]
    assert posted == ["+46701112233"] * 4
    assert [e["event"] for e in outcome_events(client, ws, pid)] == ["message.sent"]


@pytest.mark.parametrize(
    "twilio", [Script(Reply(400, {"code": 21211, "message": "Invalid 'To'"}))], indirect=True
)
def test_a_refusal_that_cannot_succeed_fails_at_once(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, twilio: tuple[VendorServer, Script]
) -> None:
    server, _script = twilio
    pid = setup_sms(client, ws, server)
    mid = send(client, ws, channel="sms", template="promo", profile_id=pid)
    assert deliver(app).failed == 1
    assert status(client, ws, mid)["status"] == "failed"
    [failed] = outcome_events(client, ws, pid)
    assert failed["event"] == "message.failed" and "21211" in failed["properties"]["reason"]
    assert len(server.requests) == 1


@pytest.mark.parametrize("twilio", [Script(Reply(503, {"message": "down"}))], indirect=True)
def test_a_vendor_that_never_recovers_ends_in_message_failed(
    app: FastAPI,
    client: TestClient,
    ws: WorkspaceKeys,
    clock: FakeClock,
    twilio: tuple[VendorServer, Script],
) -> None:
    server, _script = twilio
    pid = setup_sms(client, ws, server)
    mid = send(client, ws, channel="sms", template="promo", profile_id=pid)
    for _ in range(20):
        if deliver(app).failed:
            break
        clock.advance(hours=1)  # past the longest back-off
    assert status(client, ws, mid)["status"] == "failed"
    assert len(server.requests) == app.state.dispatcher.max_attempts
    [failed] = outcome_events(client, ws, pid)
    assert failed["event"] == "message.failed" and "503" in failed["properties"]["reason"]
