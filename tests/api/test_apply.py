"""`POST /v1/apply`: all-or-nothing, dependency order, references and safe deletion."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.documents import DocumentKind
from clarion.model.documents import StoredDocument
from clarion.storage.base import Tx
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import NoteKind, WorkspaceKeys, make_workspace, settings_for_tests


def note(name: str, text: str = "hello", links: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": "note", "name": name, "text": text}
    if links is not None:
        doc["links"] = links
    return doc


def stored_names(client: TestClient, ws: WorkspaceKeys) -> list[str]:
    items = client.get("/v1/documents", params={"kind": "note"}, headers=ws.auth).json()["items"]
    return sorted(d["name"] for d in items)


def test_apply_creates_then_leaves_alone_then_updates(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    first = client.post("/v1/apply", json=[note("a"), note("b")], headers=ws.auth)
    assert first.status_code == 200
    assert [(r["name"], r["action"], r["version"]) for r in first.json()["results"]] == [
        ("a", "created", 1),
        ("b", "created", 1),
    ]
    again = client.post("/v1/apply", json=[note("a"), note("b", "changed")], headers=ws.auth)
    assert [(r["name"], r["action"], r["version"]) for r in again.json()["results"]] == [
        ("a", "unchanged", 1),
        ("b", "updated", 2),
    ]
    got = client.get("/v1/documents/note/b", headers=ws.auth).json()
    assert got["spec"]["text"] == "changed" and got["version"] == 2


def test_invalid_document_in_the_middle_changes_nothing(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    client.post("/v1/apply", json=[note("keep", "original")], headers=ws.auth)
    batch = [note("keep", "edited"), {"kind": "note", "name": "bad", "text": 42}, note("c")]
    response = client.post("/v1/apply", json=batch, headers=ws.auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_documents"
    assert error["problems"] == [
        {
            "document": 1,
            "kind": "note",
            "name": "bad",
            "path": "text",
            "message": "a note needs a text",
        }
    ]
    assert error["field"] == "documents[1].text"
    assert stored_names(client, ws) == ["keep"]
    assert (
        client.get("/v1/documents/note/keep", headers=ws.auth).json()["spec"]["text"] == "original"
    )


def test_every_problem_is_reported(client: TestClient, ws: WorkspaceKeys) -> None:
    batch = [
        {"kind": "unknown-kind", "name": "x"},
        {"kind": "note", "text": "no name"},
        note("dup"),
        note("dup"),
        note("lonely", links=["missing"]),
        "not an object",
    ]
    response = client.post("/v1/apply", json=batch, headers=ws.auth)
    assert response.status_code == 400
    problems = {(p["document"], p["path"]) for p in response.json()["error"]["problems"]}
    assert problems == {(0, "kind"), (1, "name"), (3, "name"), (4, ""), (5, "")}
    messages = " ".join(p["message"] for p in response.json()["error"]["problems"])
    assert re.search(r"known kinds: [a-z_, ]*\bnote\b", messages)
    assert "note/missing, which does not exist" in messages


def test_references_are_applied_in_dependency_order(client: TestClient, ws: WorkspaceKeys) -> None:
    batch = [note("top", links=["middle"]), note("middle", links=["base"]), note("base")]
    response = client.post("/v1/apply", json=batch, headers=ws.auth)
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["top", "middle", "base"]
    got = client.get("/v1/documents/note/base", headers=ws.auth).json()
    assert got["referenced_by"] == ["note/middle"]


def test_deleting_a_referenced_document_answers_409(client: TestClient, ws: WorkspaceKeys) -> None:
    client.post(
        "/v1/apply",
        json=[note("base"), note("a", links=["base"]), note("b", links=["base"])],
        headers=ws.auth,
    )
    response = client.delete("/v1/documents/note/base", headers=ws.auth)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "still_referenced"
    assert error["referrers"] == [{"kind": "note", "name": "a"}, {"kind": "note", "name": "b"}]
    assert "base" in stored_names(client, ws)
    # Once nothing refers to it any more, it can go.
    client.post("/v1/apply", json=[note("a", links=[])], headers=ws.auth)
    assert client.delete("/v1/documents/note/b", headers=ws.auth).status_code == 204
    assert client.delete("/v1/documents/note/base", headers=ws.auth).status_code == 204
    assert stored_names(client, ws) == ["a"]
    assert client.delete("/v1/documents/note/base", headers=ws.auth).status_code == 404


def test_yaml_body_and_dry_run(client: TestClient, ws: WorkspaceKeys) -> None:
    body = "kind: note\nname: from-yaml\ntext: hi\n---\nkind: note\nname: second\ntext: there\n"
    headers = {**ws.auth, "Content-Type": "application/yaml"}
    dry = client.post("/v1/apply", params={"dry_run": "true"}, content=body, headers=headers)
    assert dry.status_code == 200
    assert [r["action"] for r in dry.json()["results"]] == ["created", "created"]
    assert stored_names(client, ws) == []
    real = client.post("/v1/apply", content=body, headers=headers)
    assert [r["action"] for r in real.json()["results"]] == ["created", "created"]
    assert stored_names(client, ws) == ["from-yaml", "second"]


def test_unparseable_body_names_the_problem(client: TestClient, ws: WorkspaceKeys) -> None:
    response = client.post(
        "/v1/apply", content=b"{nope", headers={**ws.auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "body"
    empty = client.post("/v1/apply", json=[], headers=ws.auth)
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "documents"


def test_same_names_in_two_workspaces_do_not_meet(
    client: TestClient, ws: WorkspaceKeys, other_ws: WorkspaceKeys
) -> None:
    client.post("/v1/apply", json=[note("shared", "mine")], headers=ws.auth)
    client.post("/v1/apply", json=[note("shared", "theirs")], headers=other_ws.auth)
    assert client.get("/v1/documents/note/shared", headers=ws.auth).json()["spec"]["text"] == "mine"
    # A reference resolves only inside the caller's workspace.
    response = client.post(
        "/v1/apply", json=[note("x", links=["only-mine"])], headers=other_ws.auth
    )
    client.post("/v1/apply", json=[note("only-mine")], headers=ws.auth)
    assert response.status_code == 400


class ExplodingKind(DocumentKind):
    """Fails while applying: the whole apply must roll back."""

    kind = "bomb"

    def apply(
        self, tx: Tx, workspace_id: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        raise RuntimeError("storage failed half-way")


@pytest.fixture
def bomb_client(sqlite_db: SqlDatabase, clock: FakeClock) -> Iterator[tuple[TestClient, FastAPI]]:
    app = create_app(
        settings_for_tests(), db=sqlite_db, clock=clock, extra_kinds=[NoteKind(), ExplodingKind()]
    )
    with TestClient(app) as client:
        yield client, app


def test_a_failure_while_applying_rolls_everything_back(
    bomb_client: tuple[TestClient, FastAPI],
) -> None:
    client, app = bomb_client
    ws = make_workspace(app)
    with pytest.raises(RuntimeError):
        client.post(
            "/v1/apply", json=[note("first"), {"kind": "bomb", "name": "b"}], headers=ws.auth
        )
    assert stored_names(client, ws) == []
