"""Access control on every endpoint: no key, wrong key kind, wrong role, wrong workspace.

New endpoints are covered automatically by the first three tests; an endpoint
with path parameters must also be listed in OBJECT_ROUTES (a test enforces it)
with a way to create its object in one workspace, so that another workspace's
key is shown to get 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.model.roles import KeyKind, Role
from clarion.workspaces import issue_key
from tests.conftest import WorkspaceKeys, drain_consumers

PUBLIC = {("GET", "/health"), ("GET", "/sdk/clarion.js")}
"""Routes that answer without any key."""

INGESTION_PREFIXES = (
    "/v1/identify",
    "/v1/track",
    "/v1/page",
    "/v1/screen",
    "/v1/group",
    "/v1/alias",
    "/v1/batch",
    "/v1/cloudevents",
)
"""Routes that accept the public write key."""

CLIENT_PREFIXES = ("/v1/surfaces", "/ofrep/", "/v1/push/subscriptions")
"""Client-facing routes that accept the write key (with an identity token for known users)."""

VENDOR_SIGNED = {("POST", "/v1/webhooks/twilio/status"), ("POST", "/v1/webhooks/twilio/inbound")}
"""Routes a vendor calls with its own signature instead of a key (401 without it; tested in
tests/channels)."""

BOOTSTRAP = {("POST", "/v1/workspaces")}
"""Routes that take the server's admin bootstrap key, not a workspace key."""

READ_ONLY_POSTS = {
    ("POST", "/v1/templates/{template}/render"),
    ("POST", "/v1/audiences/preview"),
}
"""POSTs that change nothing (a viewer may call them)."""


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document: what the API offers."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def fill(path: str, values: dict[str, str] | None = None) -> str:
    values = values or {}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


def key_with(app: FastAPI, ws: WorkspaceKeys, kind: KeyKind, role: Role | None) -> str:
    services = app.state.services
    with services.db.write() as tx:
        return issue_key(tx, ws.id, kind, role, "test", services.clock.now()).token


def is_ingestion(path: str) -> bool:
    return path.startswith(INGESTION_PREFIXES + CLIENT_PREFIXES)


def test_every_route_needs_a_key(app: FastAPI, client: TestClient) -> None:
    checked = 0
    for method, path in api_routes(app):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, fill(path), json={})
        assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
        assert response.json()["error"]["code"] == "unauthorized"
        checked += 1
    assert checked >= 8


def test_public_routes_answer_without_a_key(client: TestClient) -> None:
    for method, path in PUBLIC:
        assert client.request(method, path).status_code == 200


def test_a_revoked_or_forged_key_is_refused(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    forged = ws.secret_key[:-4] + ("AAAA" if not ws.secret_key.endswith("AAAA") else "BBBB")
    assert (
        client.get("/v1/workspace", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    token = key_with(app, ws, KeyKind.SECRET, Role.ADMIN)
    headers = {"Authorization": f"Bearer {token}"}
    key_id = client.get("/v1/keys", headers=headers).json()["items"][-1]["id"]
    assert client.delete(f"/v1/keys/{key_id}", headers=ws.auth).status_code == 204
    assert client.get("/v1/workspace", headers=headers).status_code == 401


def test_write_key_cannot_reach_the_management_api(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    headers = {"Authorization": f"Bearer {ws.write_key}"}
    for method, path in api_routes(app):
        if (method, path) in PUBLIC | BOOTSTRAP | VENDOR_SIGNED or is_ingestion(path):
            continue
        response = client.request(method, fill(path), json={}, headers=headers)
        assert response.status_code == 403, f"{method} {path} answered {response.status_code}"


def test_viewer_cannot_change_anything(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> None:
    headers = {"Authorization": f"Bearer {key_with(app, ws, KeyKind.SECRET, Role.VIEWER)}"}
    changed = 0
    for method, path in api_routes(app):
        skip = BOOTSTRAP | READ_ONLY_POSTS | VENDOR_SIGNED | PUBLIC
        if method == "GET" or (method, path) in skip or is_ingestion(path):
            continue
        response = client.request(method, fill(path), json={}, headers=headers)
        assert response.status_code == 403, f"{method} {path} answered {response.status_code}"
        changed += 1
    assert changed >= 4


def test_editor_cannot_manage_keys(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> None:
    headers = {"Authorization": f"Bearer {key_with(app, ws, KeyKind.SECRET, Role.EDITOR)}"}
    assert client.get("/v1/keys", headers=headers).status_code == 403
    assert client.post("/v1/keys", json={"name": "x"}, headers=headers).status_code == 403
    assert client.get("/v1/workspace", headers=headers).status_code == 200


# --- objects of one workspace are invisible to another -------------------------

Factory = Callable[[TestClient, WorkspaceKeys], dict[str, str]]


def _key(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    created = client.post("/v1/keys", json={"name": "k", "role": "viewer"}, headers=ws.auth)
    return {"key_id": created.json()["id"]}


def _document(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    doc = {"kind": "note", "name": "private", "text": "secret"}
    assert client.post("/v1/apply", json=[doc], headers=ws.auth).status_code == 200
    return {"kind": "note", "name": "private"}


def _profile(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    sent = client.post(
        "/v1/identify",
        json={"userId": "owner-1", "traits": {"plan": "pro"}},
        auth=(ws.write_key, ""),
    )
    assert sent.status_code == 200
    drain_consumers(client)
    found = client.get("/v1/profiles", params={"identity": "user_id:owner-1"}, headers=ws.auth)
    return {"profile_id": found.json()["id"]}


def _group(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    made = client.post(
        "/v1/subscription-groups",
        headers=ws.auth,
        json={"name": "private-news", "channel": "email", "default": "opt_in"},
    )
    assert made.status_code == 201
    return {"name": "private-news"}


def _template(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    made = client.post(
        "/v1/templates",
        headers=ws.auth,
        json={"name": "private-template", "channel": "sms", "body": "Hi {{ profile.first_name }}"},
    )
    assert made.status_code == 201, made.text
    return {"template": "private-template"}


def _message(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    _template(client, ws)
    sent = client.post(
        "/v1/messages",
        headers=ws.auth,
        json={"channel": "sms", "template": "private-template", "to": "+46700000000"},
    )
    assert sent.status_code == 202, sent.text
    return {"message_id": sent.json()["message_id"]}


def _suppression(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    made = client.post(
        "/v1/suppressions",
        headers=ws.auth,
        json={"channel": "email", "address": "private@example.com"},
    )
    assert made.status_code == 201
    return {"channel": "email", "address": "private@example.com"}


def _journey(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    made = client.post(
        "/v1/journeys",
        headers=ws.auth,
        json={
            "name": "private-journey",
            "entry": {"type": "api"},
            "nodes": [{"id": "done", "type": "end"}],
        },
    )
    assert made.status_code == 201, made.text
    return {"journey": "private-journey"}


def _card(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    from tests.delivery.harness import deliver

    _profile(client, ws)
    card = {"name": "private-card", "channel": "content_card", "title": "Hi"}
    assert client.post("/v1/templates", headers=ws.auth, json=card).status_code == 201
    sent = client.post(
        "/v1/messages",
        headers=ws.auth,
        json={"channel": "content_card", "template": "private-card", "user_id": "owner-1"},
    )
    assert sent.status_code == 202, sent.text
    deliver(client.app)  # type: ignore[arg-type]
    return {"item_id": sent.json()["message_id"]}


def _campaign(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    _template(client, ws)
    audience = {
        "kind": "audience",
        "name": "private-audience",
        "definition": {"trait": {"path": "plan", "op": "eq", "value": "pro"}},
    }
    campaign = {
        "kind": "campaign",
        "name": "private-campaign",
        "audience": "private-audience",
        "template": "private-template",
    }
    made = client.post("/v1/apply", headers=ws.auth, json=[audience, campaign])
    assert made.status_code == 200, made.text
    run = client.post("/v1/campaigns/private-campaign/runs", headers=ws.auth)
    assert run.status_code == 201, run.text
    return {"campaign": "private-campaign", "run_id": run.json()["id"]}


def _audience(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    made = client.post(
        "/v1/audiences", headers=ws.auth, json={"name": "private-list", "type": "list"}
    )
    assert made.status_code == 201, made.text
    return {"audience": "private-list"}


def _canvas(client: TestClient, ws: WorkspaceKeys) -> dict[str, str]:
    schema = {
        "entities": [
            {"name": "hotels", "primary_key": "hotel_id", "attributes": {"hotel_id": "string"}}
        ]
    }
    assert client.post("/v1/schema", headers=ws.auth, json=schema).status_code == 201
    canvas = {
        "name": "private-canvas",
        "activities": [{"id": "all", "type": "build_audience", "dimension": "hotels"}],
    }
    assert client.post("/v1/canvases", headers=ws.auth, json=canvas).status_code == 201
    assert client.post("/v1/data/hotels", headers=ws.auth, json=[{"hotel_id": "h1"}]).is_success
    found = client.post("/v1/canvases/private-canvas/calculate", headers=ws.auth)
    assert found.status_code == 200, found.text
    return {"canvas": "private-canvas", "run_id": found.json()["id"], "entity": "hotels"}


OBJECT_ROUTES: dict[str, Factory] = {
    "/v1/audiences/{audience}": _audience,
    "/v1/audiences/{audience}/members": _audience,
    "/v1/audiences/{audience}/upload": _audience,
    "/v1/campaigns/{campaign}": _campaign,
    "/v1/campaigns/{campaign}/activate": _campaign,
    "/v1/campaigns/{campaign}/stop": _campaign,
    "/v1/campaigns/{campaign}/test": _campaign,
    "/v1/campaigns/{campaign}/trigger": _campaign,
    "/v1/campaigns/{campaign}/runs": _campaign,
    "/v1/campaigns/{campaign}/runs/{run_id}": _campaign,
    "/v1/campaigns/{campaign}/report": _campaign,
    "/v1/surfaces/cards/{item_id}/read": _card,
    "/v1/surfaces/cards/{item_id}/click": _card,
    "/v1/surfaces/cards/{item_id}/dismiss": _card,
    "/v1/journeys/{journey}": _journey,
    "/v1/journeys/{journey}/versions": _journey,
    "/v1/journeys/{journey}/stats": _journey,
    "/v1/journeys/{journey}/entries": _journey,
    "/v1/journeys/{journey}/test": _journey,
    "/v1/journeys/{journey}/publish": _journey,
    "/v1/journeys/{journey}/pause": _journey,
    "/v1/journeys/{journey}/resume": _journey,
    "/v1/journeys/{journey}/stop": _journey,
    "/v1/journeys/{journey}/close": _journey,
    "/v1/profiles/{profile_id}/journeys": _profile,
    "/v1/templates/{template}": _template,
    "/v1/templates/{template}/versions": _template,
    "/v1/templates/{template}/render": _template,
    "/v1/messages/{message_id}": _message,
    "/v1/suppressions/{channel}/{address}": _suppression,
    "/v1/keys/{key_id}": _key,
    "/v1/documents/{kind}/{name}": _document,
    "/v1/profiles/{profile_id}": _profile,
    "/v1/profiles/{profile_id}/events": _profile,
    "/v1/profiles/{profile_id}/subscriptions": _profile,
    "/v1/profiles/{profile_id}/subscriptions/history": _profile,
    "/v1/subscription-groups/{name}": _group,
    "/v1/canvases/{canvas}": _canvas,
    "/v1/canvases/{canvas}/calculate": _canvas,
    "/v1/canvases/{canvas}/run": _canvas,
    "/v1/canvases/{canvas}/runs": _canvas,
    "/v1/canvases/{canvas}/runs/{run_id}": _canvas,
    "/v1/canvases/{canvas}/sql": _canvas,
    "/v1/data/{entity}": _canvas,
}


SHARED_NAMES = {
    "/v1/channels/{channel}",
    "/v1/surfaces/{surface}",
    "/ofrep/v1/evaluate/flags/{key}",
}
"""Routes whose path names a fixed thing (a channel), not an object of a workspace; each
workspace has its own configuration behind the same path (tested in tests/delivery)."""


def test_every_object_route_is_listed_or_shared(app: FastAPI) -> None:
    with_params = {path for _m, path in api_routes(app) if "{" in path}
    assert with_params <= set(OBJECT_ROUTES) | SHARED_NAMES


@pytest.mark.parametrize("path", sorted(OBJECT_ROUTES))
def test_another_workspaces_object_is_not_found(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, other_ws: WorkspaceKeys, path: str
) -> None:
    params = OBJECT_ROUTES[path](client, ws)
    methods = [m for m, p in api_routes(app) if p == path]
    for method in methods:
        response = client.request(method, fill(path, params), json={}, headers=other_ws.auth)
        assert response.status_code == 404, f"{method} {path} answered {response.status_code}"
    # ... while the owner still sees it (the 404 is about the workspace, not the object).
    if "GET" in methods:
        assert client.get(fill(path, params), headers=ws.auth).status_code == 200
