"""Driving journeys in tests: everything runs to quiet on the fake clock."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.journeys.timers import fire_due_timers, run_http_calls
from clarion.outbound import OutboundClient, OutboundPolicy
from tests.conftest import WorkspaceKeys, drain_consumers
from tests.delivery.harness import deliver


def settle(app: FastAPI, client: TestClient) -> None:
    """Process the log, due timers, custom-action calls and the outbox until nothing moves."""
    services = app.state.services

    async def http_round() -> int:
        outbound = OutboundClient(OutboundPolicy.allowing("127.0.0.1"))
        try:
            return await run_http_calls(services.db, services.clock, outbound)
        finally:
            await outbound.aclose()

    for _ in range(50):
        moved = drain_consumers(client)
        moved += fire_due_timers(services.db, services.clock)
        moved += asyncio.run(http_round())
        moved += deliver(app).claimed
        if not moved:
            return
    raise AssertionError("the system did not settle")


def track(client: TestClient, ws: WorkspaceKeys, user: str, event: str, **properties: Any) -> None:
    response = client.post(
        "/v1/track",
        json={"userId": user, "event": event, "properties": properties},
        auth=(ws.write_key, ""),
    )
    assert response.status_code == 200, response.text


def apply_yaml(client: TestClient, ws: WorkspaceKeys, text: str) -> dict[str, Any]:
    response = client.post(
        "/v1/apply", content=text.encode(), headers={**ws.auth, "Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def publish(client: TestClient, ws: WorkspaceKeys, journey: str) -> dict[str, Any]:
    response = client.post(f"/v1/journeys/{journey}/publish", headers=ws.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def messages_to(client: TestClient, ws: WorkspaceKeys, user: str) -> list[dict[str, Any]]:
    """What the capture provider holds for a user."""
    found = client.get("/v1/profiles", params={"identity": f"user_id:{user}"}, headers=ws.auth)
    if found.status_code == 404:
        return []
    items = client.get(
        "/v1/outbox", params={"profile": found.json()["id"]}, headers=ws.auth
    ).json()["items"]
    return list(items)


def path_of(client: TestClient, ws: WorkspaceKeys, user: str) -> list[dict[str, Any]]:
    pid = client.get(
        "/v1/profiles", params={"identity": f"user_id:{user}"}, headers=ws.auth
    ).json()["id"]
    return list(client.get(f"/v1/profiles/{pid}/journeys", headers=ws.auth).json()["items"])
