"""Helpers for tests against the running app: apply YAML, send events, settle the processors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.audiences.membership import backfill_pending, reevaluate_due
from tests.conftest import WorkspaceKeys, drain_consumers


def apply(client: TestClient, ws: WorkspaceKeys, text: str) -> None:
    response = client.post(
        "/v1/apply", content=text.encode(), headers={**ws.auth, "Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text


def send(client: TestClient, ws: WorkspaceKeys, path: str, body: dict[str, Any]) -> None:
    assert client.post(path, json=body, auth=(ws.write_key, "")).status_code == 200


def settle(app: FastAPI, client: TestClient) -> None:
    services = app.state.services
    for _ in range(20):
        moved = drain_consumers(client) + backfill_pending(services.db, services.clock)
        moved += reevaluate_due(services.db, services.clock)
        if not moved:
            return
    raise AssertionError("audiences did not settle")


def audience_events(client: TestClient, ws: WorkspaceKeys, user: str) -> list[tuple[str, str]]:
    pid = client.get(
        "/v1/profiles", params={"identity": f"user_id:{user}"}, headers=ws.auth
    ).json()["id"]
    items = client.get(f"/v1/profiles/{pid}/events", params={"limit": 500}, headers=ws.auth).json()[
        "items"
    ]
    return [
        (e["event"], e["properties"]["audience"])
        for e in reversed(items)
        if (e["event"] or "").startswith("audience.")
    ]
