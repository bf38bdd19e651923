"""Driving the delivery pipeline in tests: queue, dispatch until idle, inspect."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.delivery import DispatchStats
from tests.conftest import WorkspaceKeys, drain_consumers


def deliver(app: FastAPI) -> DispatchStats:
    """Run the dispatcher until nothing is due; returns the summed statistics."""
    total = DispatchStats()

    async def run() -> None:
        while True:
            stats = await app.state.dispatcher.run_once()
            if stats.claimed == 0:
                return
            for name in ("claimed", "sent", "skipped", "deferred", "failed", "retried"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            for reason, n in stats.reasons.items():
                total.reasons[reason] = total.reasons.get(reason, 0) + n

    asyncio.run(run())
    return total


def identify(client: TestClient, ws: WorkspaceKeys, user: str, **traits: Any) -> str:
    """Create a profile through ingestion; returns its id."""
    body = {"userId": user, "traits": traits}
    assert client.post("/v1/identify", json=body, auth=(ws.write_key, "")).status_code == 200
    drain_consumers(client)
    found = client.get("/v1/profiles", params={"identity": f"user_id:{user}"}, headers=ws.auth)
    return str(found.json()["id"])


def apply(client: TestClient, ws: WorkspaceKeys, *documents: dict[str, Any]) -> None:
    response = client.post("/v1/apply", json=list(documents), headers=ws.auth)
    assert response.status_code == 200, response.text


def send(client: TestClient, ws: WorkspaceKeys, **body: Any) -> str:
    response = client.post("/v1/messages", json=body, headers=ws.auth)
    assert response.status_code == 202, response.text
    return str(response.json()["message_id"])


def status(client: TestClient, ws: WorkspaceKeys, message_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/messages/{message_id}", headers=ws.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def outbox(client: TestClient, ws: WorkspaceKeys, **filters: str) -> list[dict[str, Any]]:
    response = client.get("/v1/outbox", params=filters, headers=ws.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def outcome_events(client: TestClient, ws: WorkspaceKeys, profile_id: str) -> list[dict[str, Any]]:
    """The profile's `message.*` events, oldest first."""
    drain_consumers(client)
    items = client.get(
        f"/v1/profiles/{profile_id}/events", params={"limit": 1000}, headers=ws.auth
    ).json()["items"]
    return [e for e in reversed(items) if (e["event"] or "").startswith("message.")]


CART_REMINDER = {
    "kind": "template",
    "name": "cart-reminder",
    "channel": "email",
    "from": "Shop <shop@example.com>",
    "subject": "{{ profile.first_name | default: 'Hi' }}, you left something in your cart",
    "html": "<p>Hello {{ profile.first_name }}, finish here: <a href='{{ "
    "event.properties.cart_url }}'>your cart</a></p><p><a href='{{ "
    "message.unsubscribe_url }}'>Unsubscribe</a></p>",
}
"""The template of the delivery issue, exactly as written there."""
