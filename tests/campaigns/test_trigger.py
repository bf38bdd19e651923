"""API-triggered campaigns: the trigger endpoint, idempotent requestId, per-recipient
answers, transactional rules, bad requests; the order confirmation over real SMTP."""

from __future__ import annotations

import email
import email.policy
import queue
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.campaigns import CampaignNotFound, InvalidTrigger, trigger_calls
from clarion.model.roles import KeyKind, Role
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.api.test_access import key_with
from tests.campaigns.helpers import add_profiles, apply, get, post, run_campaigns
from tests.campaigns.test_newsletter import ISSUE_CAMPAIGNS
from tests.conftest import (
    LiveServer,
    WorkspaceKeys,
    drain_consumers,
    free_port,
    make_workspace,
    settings_for_tests,
)

ORDER_CONFIRMATION = next(
    d for d in yaml.safe_load_all(ISSUE_CAMPAIGNS) if d["name"] == "order-confirmation"
)
ORDER_TEMPLATE = {
    "kind": "template",
    "name": "order-confirmation",
    "channel": "email",
    "from": "Acme Shop <shop@example.com>",
    "subject": "Order {{ context.order.id }} confirmed",
    "text": "Hi {{ profile.first_name | default: 'there' }}, thanks for order "
    "{{ context.order.id }} ({{ context.order.total }} SEK) at {{ context.shop }}.",
}


def order(request_id: str, *recipients: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {"requestId": request_id, "recipients": list(recipients), "context": context}


def setup(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    apply(client, ws, ORDER_TEMPLATE, ORDER_CONFIRMATION)
    post(client, ws, "/v1/campaigns/order-confirmation/activate")
    services = app.state.services
    ids = add_profiles(
        services.db,
        ws.id,
        [
            {"traits": {"first_name": "Ann"}, "email": "ann@example.org", "unsubscribed": True},
            {"traits": {"first_name": "Bo"}, "email": "bo@example.org"},
        ],
        services.clock.now(),
    )
    with services.db.write() as tx:
        tx.profiles.assign(ws.id, [(("user_id", "bo-1"), ids[1])], services.clock.now())
    return {"ann": ids[0], "bo": ids[1]}


def test_answers_per_recipient_and_a_retry_sends_nothing_new(both_app: FastAPI) -> None:
    with TestClient(both_app) as client:
        check_answers(both_app, client, make_workspace(both_app))


def check_answers(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> None:
    ids = setup(app, client, ws)
    client.post(
        "/v1/suppressions",
        headers=ws.auth,
        json={"channel": "email", "address": "bounced@example.org", "reason": "hard_bounce"},
    )
    body = order(
        "order-1042",
        {"email": "ann@example.org", "context": {"order": {"id": "1042", "total": 499}}},
        {"userId": "bo-1", "context": {"order": {"id": "1043", "total": 10}}},
        {"email": "stranger@example.org", "context": {"order": {"id": "1044", "total": 5}}},
        {"userId": "nobody"},
        {"identity": "email:bounced@example.org", "context": {"order": {"id": "1045"}}},
        shop="Acme",
    )
    first = client.post("/v1/campaigns/order-confirmation/trigger", json=body, headers=ws.auth)
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["queued"] == 4
    statuses = [(r["index"], r["status"], r.get("reason")) for r in answer["recipients"]]
    assert statuses == [
        (0, "queued", None),
        (1, "queued", None),
        (2, "queued", None),
        (3, "skipped", "profile_not_found"),
        (4, "queued", None),
    ]
    retry = client.post("/v1/campaigns/order-confirmation/trigger", json=body, headers=ws.auth)
    assert retry.status_code == 202 and retry.json() == answer
    assert retry.headers["Idempotent-Replayed"] == "true"
    run_campaigns(app)
    with app.state.services.db.read() as tx:
        assert tx.outbox.counts(ws.id) == {"sent": 3, "skipped": 1}
    mids = [r.get("message_id") for r in answer["recipients"]]
    ann = get(client, ws, f"/v1/messages/{mids[0]}")
    assert ann["status"] == "sent" and ann["profile_id"] == ids["ann"]  # unsubscribed, but
    bounced = get(client, ws, f"/v1/messages/{mids[4]}")  # transactional; never hard bounces
    assert (bounced["status"], bounced["reason"]) == ("skipped", "suppressed:hard_bounce")
    outbox = {m["to"]: m for m in client.get("/v1/outbox", headers=ws.auth).json()["items"]}
    assert outbox["ann@example.org"]["text"] == ("Hi Ann, thanks for order 1042 (499 SEK) at Acme.")
    assert outbox["bo@example.org"]["subject"] == "Order 1043 confirmed"
    assert outbox["stranger@example.org"]["text"].startswith("Hi there, thanks for order 1044")
    for _ in range(100):  # on PostgreSQL a poll waits for concurrent transactions to end
        drain_consumers(client)
        if get(client, ws, "/v1/campaigns/order-confirmation/report")["totals"]["sent"] == 3:
            break
    totals = get(client, ws, "/v1/campaigns/order-confirmation/report")["totals"]
    assert (totals["sent"], totals["skipped"]) == (3, 1)


def test_marketing_api_campaign_respects_consent_and_can_create_profiles(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    promo = {
        "kind": "campaign",
        "name": "promo",
        "type": "api",
        "template": "order-confirmation",
        "create_profiles": True,
    }
    apply(client, ws, promo)
    post(client, ws, "/v1/campaigns/promo/activate")
    answer = post(
        client,
        ws,
        "/v1/campaigns/promo/trigger",
        order(
            "p-1",
            {"email": "ann@example.org"},
            {"email": "new@example.org", "profile": {"first_name": "Nea"}},
        ),
    )
    run_campaigns(app)
    ann, new = (get(client, ws, f"/v1/messages/{r['message_id']}") for r in answer["recipients"])
    assert (ann["status"], ann["reason"]) == ("skipped", "unsubscribed")
    assert new["status"] == "sent" and new["profile_id"] is not None
    created = get(client, ws, f"/v1/profiles/{new['profile_id']}")
    assert created["traits"]["first_name"] == "Nea"


def test_bad_requests_get_clear_answers(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, other_ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    path = "/v1/campaigns/order-confirmation/trigger"
    one = {"email": "ann@example.org"}

    def call(body: Any, headers: dict[str, str] | None = None, url: str = path) -> tuple:
        response = client.post(url, json=body, headers=headers or ws.auth)
        error = response.json().get("error", {}) if response.status_code >= 400 else {}
        return response.status_code, error.get("field")

    assert call(
        order(
            "r",
        )
    ) == (400, "recipients")
    assert call({"requestId": "r"}) == (400, "recipients")
    assert call({"recipients": [one]}) == (400, "requestId")
    assert call(order("r", {"email": "a@b.c", "userId": "x"})) == (400, "recipients[0]")
    assert call(order("r", {"phone": "+4670", "context": "x"})) == (400, "recipients[0].context")
    assert call(order("r", {"email": "not-an-address"})) == (400, "recipients[0].email")
    assert call(order("r", *[one] * 1001)) == (413, "recipients")
    assert call(order("r", one, blob="x" * 210_000)) == (413, "context")
    assert call(order("r", one), url="/v1/campaigns/nope/trigger") == (404, "campaign")
    assert call(order("r", one), headers=other_ws.auth) == (404, "campaign")
    assert call(order("r", one), headers={"Authorization": "Bearer nope"})[0] == 401
    write_key = {"Authorization": f"Bearer {ws.write_key}"}
    assert call(order("r", one), headers=write_key)[0] == 403
    viewer = {"Authorization": f"Bearer {key_with(app, ws, KeyKind.SECRET, Role.VIEWER)}"}
    assert call(order("r", one), headers=viewer)[0] == 403
    post(client, ws, "/v1/campaigns/order-confirmation/stop")
    assert call(order("r", one)) == (409, "campaign")
    apply(client, ws, {"kind": "audience", "name": "all", "definition": {"all": []}})
    action = {
        "kind": "campaign",
        "name": "news",
        "audience": "all",
        "template": "order-confirmation",
    }
    apply(client, ws, action)
    assert call(order("r", one), url="/v1/campaigns/news/trigger") == (409, "campaign")
    with app.state.services.db.read() as tx:
        assert tx.outbox.counts(ws.id) == {}  # nothing was queued by any of these


# --- over real SMTP -------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.arrived: queue.Queue[bytes] = queue.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.put(envelope.original_content)
        return "250 2.0.0 Ok"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.mark.slow
def test_order_confirmation_through_a_real_smtp_server(
    smtp: tuple[Inbox, int], sqlite_db: SqlDatabase
) -> None:
    inbox, smtp_port = smtp
    settings = settings_for_tests()
    settings.workers = True
    app = create_app(settings, db=sqlite_db, clock=FakeClock())
    ws = make_workspace(app)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, headers=ws.auth) as http:
        assert (
            http.put(
                "/v1/channels/email",
                json={"provider": "smtp", "settings": {"url": f"smtp://127.0.0.1:{smtp_port}"}},
            ).status_code
            == 200
        )
        assert http.post("/v1/apply", json=[ORDER_TEMPLATE, ORDER_CONFIRMATION]).status_code == 200
        assert http.post("/v1/campaigns/order-confirmation/activate").status_code == 200
        body = order(
            "order-7",
            {"email": "buyer@example.org", "context": {"order": {"id": "7", "total": 99}}},
            shop="Acme",
        )
        started = time.monotonic()
        first = http.post("/v1/campaigns/order-confirmation/trigger", json=body)
        assert first.status_code == 202, first.text
        data = inbox.arrived.get(timeout=30)
        took = time.monotonic() - started
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert message["Subject"] == "Order 7 confirmed"
        assert message["To"] == "buyer@example.org"
        assert "thanks for order 7 (99 SEK) at Acme" in message.get_body().get_content()
        message_id = first.json()["recipients"][0]["message_id"]
        assert message_id in message["Message-ID"]
        # A retry answers the same and sends nothing: the next order is the next to arrive.
        again = http.post("/v1/campaigns/order-confirmation/trigger", json=body)
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        body2 = order(
            "order-8",
            {"email": "buyer@example.org", "context": {"order": {"id": "8", "total": 1}}},
            shop="Acme",
        )
        assert http.post("/v1/campaigns/order-confirmation/trigger", json=body2).status_code == 202
        following = email.message_from_bytes(
            inbox.arrived.get(timeout=30), policy=email.policy.default
        )
        assert following["Subject"] == "Order 8 confirmed"
        assert inbox.arrived.empty()
    print(f"request to SMTP arrival: {took * 1000:.0f} ms")


def test_calls_grouped_in_one_commit_are_answered_each(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    """What the group commit hands over: repeated ids, a bad body and good ones together."""
    setup(app, client, ws)
    services = app.state.services
    first = order("g-1", {"email": "ann@example.org", "context": {"order": {"id": "1"}}})
    second = order("g-2", {"userId": "bo-1"}, {"email": "x@example.org"})
    bodies = [first, first, {"requestId": "g-3"}, second]
    with services.db.write() as tx:
        results = trigger_calls(tx, ws.id, "order-confirmation", bodies, services.clock.now())
        missing = trigger_calls(tx, ws.id, "nope", [first], services.clock.now())
    (a, replay_a), (a_again, replay_again), bad, (b, replay_b) = results
    assert (replay_a, replay_again, replay_b) == (False, True, False)
    assert a_again == a and a["queued"] == 1 and b["queued"] == 2
    assert isinstance(bad, InvalidTrigger) and bad.field == "recipients"
    assert isinstance(missing[0], CampaignNotFound)
    with services.db.read() as tx:
        assert tx.outbox.counts(ws.id) == {"pending": 3}
    retried = client.post("/v1/campaigns/order-confirmation/trigger", json=second, headers=ws.auth)
    assert retried.json() == b and retried.headers["Idempotent-Replayed"] == "true"
