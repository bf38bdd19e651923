"""Driving campaigns in tests: profiles in bulk, the brief's documents, runs until idle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.campaigns import CampaignLoop
from clarion.ids import new_id
from clarion.model.consent import WHOLE_CHANNEL, Status
from clarion.model.profiles import ProfileRecord
from clarion.storage.sql import SqlDatabase
from tests.conftest import WorkspaceKeys
from tests.delivery.harness import deliver

SUBSCRIBERS = {
    "kind": "audience",
    "name": "subscribers",
    "definition": {"trait": {"path": "newsletter", "op": "eq", "value": True}},
}
CHURNED = {
    "kind": "audience",
    "name": "churned",
    "definition": {"trait": {"path": "churned", "op": "eq", "value": True}},
}


def template(name: str, subject: str = "Hello {{ profile.first_name }}") -> dict[str, Any]:
    return {
        "kind": "template",
        "name": name,
        "channel": "email",
        "from": "News <news@example.com>",
        "subject": subject,
        "text": "Hi {{ profile.first_name }}. {{ context.note }}",
    }


def add_profiles(
    db: SqlDatabase,
    workspace_id: str,
    people: Iterable[dict[str, Any]],
    now: datetime,
) -> list[str]:
    """Profiles straight into storage (fast): each dict has `traits`, optional `timezone`,
    `email` and `unsubscribed`."""
    ids: list[str] = []
    with db.write() as tx:
        records, owners, unsubscribed = [], [], []
        for n, person in enumerate(people):
            record = ProfileRecord(
                new_id(),
                workspace_id,
                dict(person.get("traits", {})),
                {},
                now,
                now,
                timezone=person.get("timezone"),
            )
            records.append(record)
            email = person.get("email", f"p{n}-{record.id[-8:]}@example.com")
            owners.append((("email", email), record.id))
            if person.get("unsubscribed"):
                unsubscribed.append(record.id)
            ids.append(record.id)
        tx.profiles.insert(records)
        tx.profiles.assign(workspace_id, owners, now)
        for pid in unsubscribed:
            tx.consent.set_profile_state(
                workspace_id, pid, "email", WHOLE_CHANNEL, Status.UNSUBSCRIBED, "api", now
            )
    return ids


def apply(client: TestClient, ws: WorkspaceKeys, *documents: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/apply", json=list(documents), headers=ws.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def loop(app: FastAPI) -> CampaignLoop:
    found: CampaignLoop = app.state.runtime.campaign_loop
    return found


def run_campaigns(app: FastAPI, *, send: bool = True) -> None:
    """Fire due schedules and work on runs until idle, then (optionally) deliver."""
    campaigns = loop(app)
    campaigns.worker.check_us = 0  # look for the end of a run at every pass
    for _ in range(1000):
        if not campaigns.tick():
            break
    if send:
        deliver(app)
        for _ in range(1000):  # runs notice that their messages are done
            if not campaigns.tick():
                break


def post(client: TestClient, ws: WorkspaceKeys, path: str, body: Any = None) -> Any:
    response = client.post(path, json=body, headers=ws.auth)
    assert response.status_code < 300, response.text
    return response.json()


def get(client: TestClient, ws: WorkspaceKeys, path: str) -> Any:
    response = client.get(path, headers=ws.auth)
    assert response.status_code == 200, response.text
    return response.json()
