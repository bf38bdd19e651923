"""The delivery pipeline end to end through the API, one rule at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.delivery.harness import (
    CART_REMINDER,
    apply,
    deliver,
    identify,
    outbox,
    outcome_events,
    send,
    status,
)

SMS = {"kind": "template", "name": "sms", "channel": "sms", "body": "Hi {{ profile.first_name }}"}


@pytest.fixture
def shop(client: TestClient, ws: WorkspaceKeys) -> WorkspaceKeys:
    apply(
        client,
        ws,
        CART_REMINDER,
        SMS,
        {
            "kind": "subscription_group",
            "name": "newsletter",
            "channel": "email",
            "default": "opt_in",
        },
        {
            "kind": "template",
            "name": "news",
            "channel": "email",
            "from": "n@shop.se",
            "subject": "News",
            "html": "<p>News <a href='https://shop.se/x'>x</a></p>",
            "subscription_group": "newsletter",
        },
    )
    return ws


def settings(client: TestClient, ws: WorkspaceKeys, **values: Any) -> None:
    response = client.put("/v1/workspace/settings", json={"settings": values}, headers=ws.auth)
    assert response.status_code == 200, response.text


def test_a_message_is_rendered_captured_and_recorded(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    pid = identify(client, shop, "ann", first_name="Ann", email="Ann@Example.com")
    mid = send(
        client,
        shop,
        channel="email",
        template="cart-reminder",
        profile_id=pid,
        event={"event": "Cart Abandoned", "properties": {"cart_url": "https://shop.se/cart/1"}},
    )
    stats = deliver(app)
    assert stats.sent == 1
    [captured] = outbox(client, shop, profile=pid)
    assert captured["message_id"] == mid and captured["to"] == "ann@example.com"
    assert captured["subject"] == "Ann, you left something in your cart"
    assert "/t/c/" in captured["html"] and "/t/o/" in captured["html"]  # tracked
    assert "https://shop.se/cart/1" not in captured["html"]
    assert "your cart (https://shop.se/cart/1)" in captured["text"]
    assert status(client, shop, mid)["status"] == "sent"
    [event] = outcome_events(client, shop, pid)
    assert event["event"] == "message.sent"
    assert event["properties"] | {"source_id": None} == {
        "message_id": mid,
        "channel": "email",
        "source_kind": "api",
        "source_name": "messages",
        "source_id": None,
        "source_version": None,
        "template": "cart-reminder",
        "template_version": 1,
        "category": "marketing",
    }


def test_the_same_idempotency_key_sends_once(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    pid = identify(client, shop, "bo", first_name="Bo", phone="+46 70 111 22 33")
    first = send(
        client, shop, channel="sms", template="sms", profile_id=pid, idempotency_key="order-1"
    )
    again = client.post(
        "/v1/messages",
        headers=shop.auth,
        json={"channel": "sms", "template": "sms", "profile_id": pid, "idempotency_key": "order-1"},
    )
    assert again.json() == {"message_id": first, "queued": False}
    deliver(app)
    assert [m["to"] for m in outbox(client, shop)] == ["+46701112233"]


def test_a_profile_without_an_address_is_skipped_with_a_reason(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    pid = identify(client, shop, "noaddr", first_name="X")
    mid = send(client, shop, channel="email", template="cart-reminder", profile_id=pid)
    assert deliver(app).skipped == 1
    assert status(client, shop, mid) | {"attempts": 0} == status(client, shop, mid) | {
        "status": "skipped",
        "reason": "no_address",
        "attempts": 0,
    }
    [event] = outcome_events(client, shop, pid)
    assert (event["event"], event["properties"]["reason"]) == ("message.skipped", "no_address")


def test_consent_stops_marketing_but_not_transactional(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    pid = identify(client, shop, "c", email="c@example.com")
    client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=shop.auth,
        json={"subscriptions": [{"channel": "email", "status": "unsubscribed"}]},
    )
    marketing = send(client, shop, channel="email", template="cart-reminder", profile_id=pid)
    receipt = send(
        client,
        shop,
        channel="email",
        template="cart-reminder",
        profile_id=pid,
        category="transactional",
    )
    deliver(app)
    assert status(client, shop, marketing)["reason"] == "unsubscribed"
    assert status(client, shop, receipt)["status"] == "sent"
    transactional = outbox(client, shop)[0]
    assert "/t/o/" not in transactional["html"]  # no tracking on transactional mail


def test_an_opt_in_group_needs_a_subscription(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    pid = identify(client, shop, "d", email="d@example.com")
    before = send(
        client, shop, channel="email", template="news", profile_id=pid, idempotency_key="1"
    )
    deliver(app)
    assert status(client, shop, before)["reason"] == "unsubscribed"
    client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=shop.auth,
        json={
            "subscriptions": [{"channel": "email", "group": "newsletter", "status": "subscribed"}]
        },
    )
    after = send(
        client, shop, channel="email", template="news", profile_id=pid, idempotency_key="2"
    )
    deliver(app)
    assert status(client, shop, after)["status"] == "sent"


def test_suppression_complaints_stop_marketing_hard_bounces_stop_all(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    identify(client, shop, "e", email="e@example.com")
    client.post(
        "/v1/suppressions",
        headers=shop.auth,
        json={"channel": "email", "address": "E@example.com", "reason": "complaint"},
    )
    ids = [
        send(
            client,
            shop,
            channel="email",
            template="cart-reminder",
            user_id="e",
            category=c,
            idempotency_key=c,
        )
        for c in ("marketing", "transactional")
    ]
    deliver(app)
    assert [status(client, shop, i)["status"] for i in ids] == ["skipped", "sent"]
    assert status(client, shop, ids[0])["reason"] == "suppressed:complaint"
    client.post(
        "/v1/suppressions",
        headers=shop.auth,
        json={"address": "e@example.com", "reason": "hard_bounce"},
    )
    later = send(
        client,
        shop,
        channel="email",
        template="cart-reminder",
        user_id="e",
        category="transactional",
        idempotency_key="later",
    )
    deliver(app)
    assert status(client, shop, later)["reason"] == "suppressed:hard_bounce"


def test_frequency_cap_window_and_exemptions(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    settings(client, shop, frequency_caps=[{"limit": 3, "window": "7d", "channel": "email"}])
    pid = identify(client, shop, "f", email="f@example.com", phone="+46700000001")

    def email(key: str, category: str = "marketing") -> str:
        return send(
            client,
            shop,
            channel="email",
            template="cart-reminder",
            profile_id=pid,
            idempotency_key=key,
            category=category,
        )

    ids = [email(f"m{n}") for n in range(5)]
    receipt = email("receipt", "transactional")
    sms = send(client, shop, channel="sms", template="sms", profile_id=pid, idempotency_key="s")
    deliver(app)
    assert [status(client, shop, i)["status"] for i in ids] == ["sent"] * 3 + ["skipped"] * 2
    assert status(client, shop, ids[3])["reason"].startswith("frequency_cap:3 per 604800s")
    assert status(client, shop, receipt)["status"] == "sent"
    assert status(client, shop, sms)["status"] == "sent"
    clock.advance(days=7)  # exactly 7 days: the first three still count ...
    at_edge = email("edge")
    deliver(app)
    assert status(client, shop, at_edge)["status"] == "skipped"
    clock.advance(seconds=1)  # ... a moment later they do not
    after = email("after")
    deliver(app)
    assert status(client, shop, after)["status"] == "sent"


def test_two_dispatchers_never_share_the_last_slot(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    settings(client, shop, frequency_caps=[{"limit": 1, "window": "1d"}])
    pid = identify(client, shop, "g", phone="+46700000002")
    ids = [
        send(client, shop, channel="sms", template="sms", profile_id=pid, idempotency_key=str(n))
        for n in range(6)
    ]
    dispatcher = app.state.dispatcher
    dispatcher.batch_size = 1  # each run takes one message, as separate dispatchers would

    async def two_at_once() -> None:
        while True:
            results = await asyncio.gather(dispatcher.run_once(), dispatcher.run_once())
            if not any(r.claimed for r in results):
                return

    asyncio.run(two_at_once())
    assert sorted(status(client, shop, i)["status"] for i in ids) == ["sent"] + ["skipped"] * 5


def _at(clock: FakeClock, moment: datetime) -> None:
    clock.set(moment)


def test_quiet_hours_in_the_recipients_time_zone(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    settings(client, shop, quiet_hours=[{"start": "21:00", "end": "08:00", "channels": ["sms"]}])
    _at(clock, datetime(2026, 1, 12, 20, 30, tzinfo=UTC))  # 21:30 in Stockholm, 15:30 in NY
    sthlm = identify(client, shop, "sthlm", phone="+46700000003")
    nyc = identify(client, shop, "nyc", phone="+12125550100")
    for user, zone in (("sthlm", "Europe/Stockholm"), ("nyc", "America/New_York")):
        client.post(
            "/v1/identify",
            auth=(shop.write_key, ""),
            json={"userId": user, "context": {"timezone": zone}},
        )
    identify(client, shop, "sthlm")
    held = send(client, shop, channel="sms", template="sms", profile_id=sthlm)
    direct = send(client, shop, channel="sms", template="sms", profile_id=nyc)
    stats = deliver(app)
    assert (stats.sent, stats.deferred) == (1, 1)
    assert status(client, shop, direct)["status"] == "sent"
    assert status(client, shop, held) | {"attempts": 0} == status(client, shop, held) | {
        "status": "pending",
        "reason": "quiet_hours",
        "attempts": 0,
    }
    _at(clock, datetime(2026, 1, 13, 6, 59, 59, tzinfo=UTC))  # 07:59:59 local
    assert deliver(app).claimed == 0
    _at(clock, datetime(2026, 1, 13, 7, 0, tzinfo=UTC))  # 08:00 local
    assert deliver(app).sent == 1
    transactional = send(
        client, shop, channel="sms", template="sms", profile_id=sthlm, category="transactional"
    )
    _at(clock, datetime(2026, 1, 13, 22, 0, tzinfo=UTC))
    deliver(app)
    assert status(client, shop, transactional)["status"] == "sent"


def test_quiet_hours_across_a_dst_change_and_discard(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    settings(
        client,
        shop,
        timezone="Europe/Stockholm",
        quiet_hours=[
            {"start": "22:00", "end": "08:00", "channels": ["sms"]},
            {"start": "12:00", "end": "13:00", "channels": ["email"], "action": "discard"},
        ],
    )
    pid = identify(client, shop, "dst", phone="+46700000004", email="dst@example.com")
    # Saturday 28 March 2026, 23:00 in Stockholm (CET); clocks go forward that night.
    _at(clock, datetime(2026, 3, 28, 22, 0, tzinfo=UTC))
    held = send(client, shop, channel="sms", template="sms", profile_id=pid)
    deliver(app)
    _at(clock, datetime(2026, 3, 29, 5, 59, tzinfo=UTC))  # 07:59 CEST
    assert deliver(app).claimed == 0
    _at(clock, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))  # 08:00 CEST
    deliver(app)
    assert status(client, shop, held)["status"] == "sent"
    _at(clock, datetime(2026, 3, 30, 10, 30, tzinfo=UTC))  # 12:30 CEST
    dropped = send(client, shop, channel="email", template="cart-reminder", profile_id=pid)
    deliver(app)
    assert status(client, shop, dropped)["reason"] == "quiet_hours"


def test_a_held_message_is_judged_again_when_released(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    settings(client, shop, quiet_hours=[{"start": "00:00", "end": "06:00"}])
    _at(clock, datetime(2026, 2, 2, 1, 0, tzinfo=UTC))
    pid = identify(client, shop, "night", phone="+46700000005")
    held = send(client, shop, channel="sms", template="sms", profile_id=pid)
    assert deliver(app).deferred == 1
    client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=shop.auth,
        json={"subscriptions": [{"channel": "sms", "status": "unsubscribed"}]},
    )
    _at(clock, datetime(2026, 2, 2, 6, 0, tzinfo=UTC))
    deliver(app)
    assert status(client, shop, held)["reason"] == "unsubscribed"
    assert outbox(client, shop) == []


def test_throttle_paces_a_channel(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    client.put(
        "/v1/channels/sms",
        headers=shop.auth,
        json={"provider": "capture", "settings": {"rate_per_second": 2}},
    )
    ids = []
    for n in range(5):
        pid = identify(client, shop, f"t{n}", phone=f"+4670000010{n}")
        ids.append(send(client, shop, channel="sms", template="sms", profile_id=pid))
    first = deliver(app)
    assert (first.sent, first.deferred) == (2, 3)
    clock.advance(seconds=1)
    assert deliver(app).sent == 2
    clock.advance(seconds=1)
    assert deliver(app).sent == 1
    assert {status(client, shop, i)["status"] for i in ids} == {"sent"}
    assert all(status(client, shop, i)["attempts"] == 1 for i in ids)


class Scripted:
    """A provider answering from a script (the contract of `Provider`, for failure paths)."""

    name = "scripted"
    channel = "sms"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls: list[RenderedMessage] = []

    async def send(self, message: RenderedMessage) -> SendResult:
        self.calls.append(message)
        answer = self.answers.pop(0) if self.answers else SendResult(SendStatus.SENT)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        return None


def use(app: FastAPI, client: TestClient, ws: WorkspaceKeys, provider: Scripted) -> None:
    app.state.services.providers.register("scripted", lambda settings, clock: provider)
    response = client.put(
        "/v1/channels/sms", headers=ws.auth, json={"provider": "scripted", "settings": {}}
    )
    assert response.status_code == 200, response.text


def test_transient_failures_retry_with_backoff_and_the_same_id(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    provider = Scripted(
        [
            SendResult(SendStatus.TRANSIENT, error="503"),
            TimeoutError("slow"),
            SendResult(SendStatus.SENT, provider_message_id="SM1"),
        ]
    )
    use(app, client, shop, provider)
    pid = identify(client, shop, "r", phone="+46700000006")
    mid = send(client, shop, channel="sms", template="sms", profile_id=pid)
    assert deliver(app).retried == 1
    clock.advance(seconds=29)
    assert deliver(app).claimed == 0  # the first backoff is 30 s
    clock.advance(seconds=1)
    assert deliver(app).retried == 1
    clock.advance(seconds=60)
    assert deliver(app).sent == 1
    assert [m.message_id for m in provider.calls] == [mid] * 3
    final = status(client, shop, mid)
    assert (final["status"], final["attempts"], final["provider_message_id"]) == ("sent", 3, "SM1")
    assert [e["event"] for e in outcome_events(client, shop, pid)] == ["message.sent"]


def test_permanent_failures_and_exhausted_retries_end_in_message_failed(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    provider = Scripted(
        [SendResult(SendStatus.PERMANENT, error="21211 invalid number")]
        + [SendResult(SendStatus.TRANSIENT, error="500")] * 20
    )
    use(app, client, shop, provider)
    pid = identify(client, shop, "p", phone="+46700000007")
    bad = send(client, shop, channel="sms", template="sms", profile_id=pid, idempotency_key="1")
    deliver(app)
    assert status(client, shop, bad) | {"attempts": 0} == status(client, shop, bad) | {
        "status": "failed",
        "reason": "21211 invalid number",
        "attempts": 0,
    }
    flaky = send(client, shop, channel="sms", template="sms", profile_id=pid, idempotency_key="2")
    for _ in range(10):
        deliver(app)
        clock.advance(hours=1)
    assert status(client, shop, flaky)["status"] == "failed"
    assert status(client, shop, flaky)["attempts"] == app.state.dispatcher.max_attempts
    events = outcome_events(client, shop, pid)
    assert [e["event"] for e in events] == ["message.failed", "message.failed"]
    assert events[1]["properties"]["reason"] == "500"


def test_a_template_that_fails_at_send_time_is_a_failed_outcome(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys
) -> None:
    apply(
        client,
        shop,
        {
            "kind": "template",
            "name": "boom",
            "channel": "sms",
            "body": "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}",
        },
    )
    pid = identify(client, shop, "boom", phone="+46700000008")
    mid = send(client, shop, channel="sms", template="boom", profile_id=pid)
    missing = send(client, shop, channel="sms", template="sms", profile_id=pid, idempotency_key="x")
    client.delete("/v1/templates/sms", headers=shop.auth)
    deliver(app)
    assert status(client, shop, mid)["reason"].startswith("render_error")
    assert status(client, shop, missing)["reason"] == "template_not_found"


def test_a_dispatcher_that_dies_mid_send_is_replaced_after_its_lease(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    pid = identify(client, shop, "lease", phone="+46700000009")
    mid = send(client, shop, channel="sms", template="sms", profile_id=pid)
    dispatcher = app.state.dispatcher
    from clarion.delivery.dispatcher import DispatchStats

    claimed, _ = dispatcher._claim_and_judge(DispatchStats())  # claimed, then the process dies
    assert [r.candidate.item.id for r in claimed] == [mid]
    assert deliver(app).claimed == 0  # still leased
    clock.advance(seconds=dispatcher.lease_seconds)
    assert deliver(app).sent == 1
    assert [m["message_id"] for m in outbox(client, shop)] == [mid]


def test_bad_send_requests_name_the_field(client: TestClient, shop: WorkspaceKeys) -> None:
    cases = [
        ({"channel": "fax", "template": "sms", "to": "x"}, 400, "channel"),
        ({"channel": "sms", "to": "x"}, 400, "template"),
        ({"channel": "sms", "template": "nope", "to": "x"}, 404, "template"),
        ({"channel": "sms", "template": "sms"}, 400, "to"),
        ({"channel": "sms", "template": "sms", "user_id": "ghost"}, 404, "user_id"),
        ({"channel": "sms", "template": "sms", "to": "x", "category": "spam"}, 400, "category"),
        ({"channel": "sms", "template": "sms", "to": "x", "context": [1]}, 400, "context"),
    ]
    for body, code, field in cases:
        response = client.post("/v1/messages", json=body, headers=shop.auth)
        assert response.status_code == code, (body, response.text)
        assert response.json()["error"]["field"] == field
