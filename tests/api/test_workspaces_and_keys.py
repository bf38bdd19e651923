"""Workspace bootstrap and key management over the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.config import Settings
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import ADMIN_KEY, WorkspaceKeys


def test_admin_bootstrap_key_creates_a_workspace(client: TestClient) -> None:
    response = client.post(
        "/v1/workspaces", json={"name": "Shop"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "write_key", "secret_key"}
    assert body["write_key"].startswith("wk_") and body["secret_key"].startswith("sk_")
    me = client.get("/v1/workspace", headers={"Authorization": f"Bearer {body['secret_key']}"})
    assert me.json()["id"] == body["id"] and me.json()["name"] == "Shop"


def test_bootstrap_refuses_wrong_key_and_bad_name(client: TestClient, ws: WorkspaceKeys) -> None:
    wrong = client.post("/v1/workspaces", json={"name": "x"}, headers=ws.auth)
    assert wrong.status_code == 401
    bad = client.post(
        "/v1/workspaces", json={"name": ""}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "name"


@pytest.fixture
def closed_client(sqlite_db: SqlDatabase, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(Settings(workers=False), db=sqlite_db, clock=clock)
    with TestClient(app) as client:
        yield client


def test_without_a_bootstrap_key_the_api_does_not_create_workspaces(
    closed_client: TestClient,
) -> None:
    response = closed_client.post(
        "/v1/workspaces", json={"name": "x"}, headers={"Authorization": "Bearer anything"}
    )
    assert response.status_code == 403
    assert "clarion workspaces create" in response.json()["error"]["message"]


def test_keys_are_created_listed_paged_and_revoked(client: TestClient, ws: WorkspaceKeys) -> None:
    created = client.post("/v1/keys", json={"name": "ci", "role": "editor"}, headers=ws.auth)
    assert created.status_code == 201
    token = created.json()["token"]
    assert created.json()["role"] == "editor" and token.startswith(created.json()["prefix"])
    write = client.post("/v1/keys", json={"name": "site", "kind": "write"}, headers=ws.auth)
    assert write.json()["role"] is None and write.json()["token"].startswith("wk_")

    first = client.get("/v1/keys", params={"limit": 2}, headers=ws.auth).json()
    assert len(first["items"]) == 2 and first["next"]
    rest = client.get(
        "/v1/keys", params={"limit": 2, "cursor": first["next"]}, headers=ws.auth
    ).json()
    assert rest["next"] is None
    names = [k["name"] for k in first["items"] + rest["items"]]
    assert sorted(names) == sorted(["default write key", "admin", "ci", "site"])
    assert all("token" not in k for k in first["items"] + rest["items"])

    editor = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/workspace", headers=editor).status_code == 200
    assert client.delete(f"/v1/keys/{created.json()['id']}", headers=ws.auth).status_code == 204
    assert client.get("/v1/workspace", headers=editor).status_code == 401
    listed = client.get(f"/v1/keys/{created.json()['id']}", headers=ws.auth).json()
    assert listed["revoked_at"] is not None


def test_invalid_key_requests_name_the_field(client: TestClient, ws: WorkspaceKeys) -> None:
    response = client.post("/v1/keys", json={"name": "x", "role": "superuser"}, headers=ws.auth)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "role"
    bad_cursor = client.get("/v1/keys", params={"cursor": "%%%"}, headers=ws.auth)
    assert bad_cursor.status_code == 400


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_openapi_document_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/apply" in spec["paths"] and "/v1/keys" in spec["paths"]
