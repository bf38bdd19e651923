"""The brief's journey: cart abandoned -> wait 2 hours -> no purchase? -> reminder -> end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys, drain_consumers
from tests.journeys.harness import apply_yaml, messages_to, path_of, publish, settle, track

JOURNEY = """
kind: journey
name: abandoned-cart
entry: {type: event, event: Cart Abandoned}
reentrance: {mode: after, wait: 1d}
exit_criteria:
  - {event: Order Completed}
nodes:
  - {id: wait, type: wait, duration: 2h, next: check}
  - id: check
    type: condition
    branches:
      - {when: {trait: {path: vip, op: eq, value: true}}, next: vip-reminder}
    otherwise: reminder
  - {id: reminder, type: message, channel: email, template: cart-reminder, next: done}
  - {id: vip-reminder, type: message, channel: sms, template: cart-reminder-sms, next: done}
  - {id: done, type: end}
"""

TEMPLATES = """
kind: template
name: cart-reminder
channel: email
from: "Shop <shop@example.com>"
subject: "{{ profile.first_name | default: 'Hi' }}, you left something in your cart"
html: "<p>Hello {{ profile.first_name }}, finish here: <a href='{{ event.properties.cart_url }}'>your cart</a></p>"
---
kind: template
name: cart-reminder-sms
channel: sms
body: "{{ profile.first_name }}, your cart is waiting: {{ event.properties.cart_url }}"
"""  # noqa: E501


def customer(client: TestClient, ws: WorkspaceKeys, user: str, **traits: object) -> None:
    response = client.post(
        "/v1/identify", json={"userId": user, "traits": traits}, auth=(ws.write_key, "")
    )
    assert response.status_code == 200


@pytest.fixture
def shop(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> WorkspaceKeys:
    apply_yaml(client, ws, TEMPLATES)
    apply_yaml(client, ws, JOURNEY)
    publish(client, ws, "abandoned-cart")
    customer(client, ws, "a", first_name="Alva", email="alva@example.com")
    customer(client, ws, "b", first_name="Bo", email="bo@example.com")
    customer(
        client, ws, "v", first_name="Vera", email="vera@example.com", vip=True, phone="+46701234567"
    )
    settle(app, client)
    return ws


def test_the_reminder_goes_to_who_did_not_buy(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    for user in ("a", "b", "v"):
        track(client, shop, user, "Cart Abandoned", cart_url=f"https://shop.example/{user}")
    settle(app, client)
    clock.advance(hours=1)
    track(client, shop, "b", "Order Completed", total=120)
    settle(app, client)
    assert path_of(client, shop, "b")[0]["status"] == "exited"
    clock.advance(minutes=59, seconds=59)
    settle(app, client)
    assert messages_to(client, shop, "a") == []  # not yet: 1 second before the 2 hours
    clock.advance(seconds=1)
    settle(app, client)
    [email] = messages_to(client, shop, "a")
    assert email["subject"] == "Alva, you left something in your cart"
    assert "https://shop.example/a" in email["text"]
    [sms] = messages_to(client, shop, "v")
    assert sms["channel"] == "sms" and "Vera, your cart is waiting" in sms["body"]
    assert messages_to(client, shop, "b") == []
    [a] = path_of(client, shop, "a")
    assert (a["status"], a["node"]) == ("completed", "done")
    assert [step["node"] for step in a["history"]] == ["wait", "wait", "check", "reminder", "done"]
    stats = client.get("/v1/journeys/abandoned-cart/stats", headers=shop.auth).json()["nodes"]
    assert (stats["wait"]["entered"], stats["wait"]["passed"], stats["wait"]["exited"]) == (3, 2, 1)
    assert stats["check"]["branches"] == {"0": 1, "otherwise": 1}
    assert stats["reminder"]["entered"] == 1 and stats["done"]["completed"] == 2


def test_a_purchase_just_before_the_deadline_wins_even_when_the_consumer_lags(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    track(client, shop, "b", "Cart Abandoned", cart_url="x")
    settle(app, client)
    clock.advance(hours=1, minutes=59, seconds=59)
    track(client, shop, "b", "Order Completed")  # accepted, not yet processed
    clock.advance(seconds=5)  # the reminder is due now ...
    from clarion.journeys.timers import fire_due_timers

    services = app.state.services
    assert fire_due_timers(services.db, services.clock) == 0  # ... but the log comes first
    settle(app, client)
    assert messages_to(client, shop, "b") == []
    assert path_of(client, shop, "b")[0]["exit_reason"] == "exit criterion: Order Completed"


def test_reentrance_waits_a_day(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    track(client, shop, "a", "Cart Abandoned", cart_url="1")
    settle(app, client)
    clock.advance(hours=3)
    settle(app, client)
    track(client, shop, "a", "Cart Abandoned", cart_url="2")  # within a day: refused
    settle(app, client)
    assert len(path_of(client, shop, "a")) == 1
    clock.advance(days=1)
    track(client, shop, "a", "Cart Abandoned", cart_url="3")
    settle(app, client)
    assert len(path_of(client, shop, "a")) == 2


def test_old_entry_events_are_counted_as_stale(
    app: FastAPI, client: TestClient, shop: WorkspaceKeys, clock: FakeClock
) -> None:
    old = (clock.now() - timedelta(hours=3)).isoformat()
    response = client.post(
        "/v1/track",
        auth=(shop.write_key, ""),
        json={"userId": "a", "event": "Cart Abandoned", "timestamp": old},
    )
    assert response.status_code == 200
    drain_consumers(client)
    assert path_of(client, shop, "a") == []
    stats = client.get("/v1/journeys/abandoned-cart/stats", headers=shop.auth).json()["nodes"]
    assert stats["entry"]["stale"] == 1
