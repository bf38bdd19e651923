"""The audiences API: create, read, count, members, preview, upload, change, delete."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.audiences.live import apply, send, settle
from tests.conftest import WorkspaceKeys

FREQUENT: dict[str, Any] = {
    "name": "frequent-buyers-se",
    "definition": {
        "all": [
            {"trait": {"path": "country", "op": "eq", "value": "SE"}},
            {
                "performed": {
                    "event": "Order Completed",
                    "where": [{"path": "total", "op": "gte", "value": 100}],
                    "count": {"op": "gte", "value": 2},
                    "within": {"last": 30, "unit": "days"},
                }
            },
            {"not": {"performed": {"event": "Account Closed"}}},
        ]
    },
}


def people(client: TestClient, ws: WorkspaceKeys) -> None:
    """Three Swedes (two frequent buyers, one of whom closed the account) and a Norwegian."""
    for user, country in (("anna", "SE"), ("bo", "SE"), ("cecilia", "SE"), ("dag", "NO")):
        traits = {"country": country, "email": f"{user}@example.com"}
        send(client, ws, "/v1/identify", {"userId": user, "traits": traits})
    for user in ("anna", "bo", "dag"):
        for total in (150, 300):
            order = {"userId": user, "event": "Order Completed", "properties": {"total": total}}
            send(client, ws, "/v1/track", order)
    send(client, ws, "/v1/track", {"userId": "bo", "event": "Account Closed"})


def user_ids(profiles: list[dict[str, Any]]) -> set[str]:
    return {i["value"] for p in profiles for i in p["identities"] if i["namespace"] == "user_id"}


def test_create_count_members_and_read_by_id_or_name(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    people(client, ws)
    settle(app, client)
    made = client.post("/v1/audiences", headers=ws.auth, json=FREQUENT)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["id"] and body["name"] == "frequent-buyers-se"
    assert body["status"] == "pending"  # backfilled in the background
    settle(app, client)
    by_id = client.get(f"/v1/audiences/{body['id']}", headers=ws.auth).json()
    by_name = client.get("/v1/audiences/frequent-buyers-se", headers=ws.auth).json()
    assert by_id == by_name
    assert by_id["status"] == "ready" and by_id["count"] == 1
    assert by_id["definition"] == FREQUENT["definition"]
    assert by_id["changed_at"]
    members = client.get(f"/v1/audiences/{body['id']}/members", headers=ws.auth).json()
    assert user_ids(members["items"]) == {"anna"}
    listed = client.get("/v1/audiences", headers=ws.auth).json()["items"]
    assert [a["name"] for a in listed] == ["frequent-buyers-se"]


def test_members_are_paged(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> None:
    for n in range(7):
        send(client, ws, "/v1/identify", {"userId": f"u{n}", "traits": {"plan": "pro"}})
    apply(
        client,
        ws,
        "kind: audience\nname: pros\ndefinition: {trait: {path: plan, op: eq, value: pro}}\n",
    )
    settle(app, client)
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = client.get("/v1/audiences/pros/members", headers=ws.auth, params=params).json()
        seen += page["items"]
        if not page.get("next"):
            break
        params = {"limit": 3, "cursor": page["next"]}
    assert len(seen) == 7 and user_ids(seen) == {f"u{n}" for n in range(7)}


def test_preview_counts_an_unsaved_definition_with_a_sample(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    people(client, ws)
    settle(app, client)
    swedes = {"definition": {"trait": {"path": "country", "op": "eq", "value": "SE"}}}
    answer = client.post("/v1/audiences/preview", headers=ws.auth, json=swedes)
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 3
    assert user_ids(answer.json()["sample"]) == {"anna", "bo", "cecilia"}
    assert client.get("/v1/audiences", headers=ws.auth).json()["items"] == []  # nothing saved
    buyers = {"definition": FREQUENT["definition"]}
    assert client.post("/v1/audiences/preview", headers=ws.auth, json=buyers).json()["count"] == 1


def test_preview_sample_is_at_most_twenty(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    batch = [{"type": "identify", "userId": f"p{n}", "traits": {"x": 1}} for n in range(25)]
    assert (
        client.post("/v1/batch", json={"batch": batch}, auth=(ws.write_key, "")).status_code == 200
    )
    settle(app, client)
    answer = client.post(
        "/v1/audiences/preview",
        headers=ws.auth,
        json={"definition": {"trait": {"path": "x", "op": "exists"}}},
    ).json()
    assert answer["count"] == 25 and len(answer["sample"]) == 20


def test_invalid_definitions_name_the_node(client: TestClient, ws: WorkspaceKeys) -> None:
    bad_op = {
        "name": "b",
        "definition": {"all": [{"trait": {"path": "a", "op": "near", "value": 1}}]},
    }
    answer = client.post("/v1/audiences", headers=ws.auth, json=bad_op)
    assert answer.status_code == 400, answer.text
    assert "all[0]" in answer.text and "near" in answer.text
    empty_any = {"name": "b", "definition": {"any": []}}
    answer = client.post("/v1/audiences", headers=ws.auth, json=empty_any)
    assert answer.status_code == 400 and "any" in answer.text
    answer = client.post("/v1/audiences/preview", headers=ws.auth, json={"definition": {"any": []}})
    assert answer.status_code == 400 and "any" in answer.text
    assert client.get("/v1/audiences", headers=ws.auth).json()["items"] == []


def test_cycles_are_refused(client: TestClient, ws: WorkspaceKeys) -> None:
    a = {"name": "a", "definition": {"trait": {"path": "x", "op": "exists"}}}
    assert client.post("/v1/audiences", headers=ws.auth, json=a).status_code == 201
    b = {"name": "b", "definition": {"in_audience": "a"}}
    assert client.post("/v1/audiences", headers=ws.auth, json=b).status_code == 201
    loop = {"definition": {"in_audience": "b"}}
    answer = client.put("/v1/audiences/a", headers=ws.auth, json=loop)
    assert answer.status_code == 400 and "cycle" in answer.text.lower()


def test_duplicate_name_is_a_conflict(client: TestClient, ws: WorkspaceKeys) -> None:
    assert client.post("/v1/audiences", headers=ws.auth, json=FREQUENT).status_code == 201
    again = client.post("/v1/audiences", headers=ws.auth, json=FREQUENT)
    assert again.status_code == 409 and "frequent-buyers-se" in again.text


def test_put_changes_the_definition_and_backfills_again(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    people(client, ws)
    assert client.post("/v1/audiences", headers=ws.auth, json=FREQUENT).status_code == 201
    settle(app, client)
    norway = {"definition": {"trait": {"path": "country", "op": "eq", "value": "NO"}}}
    changed = client.put("/v1/audiences/frequent-buyers-se", headers=ws.auth, json=norway)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["status"] == "pending"
    settle(app, client)
    members = client.get("/v1/audiences/frequent-buyers-se/members", headers=ws.auth).json()
    assert user_ids(members["items"]) == {"dag"}


def test_delete_is_refused_while_used_then_allowed(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    assert client.post("/v1/audiences", headers=ws.auth, json=FREQUENT).status_code == 201
    user = {"name": "users", "definition": {"in_audience": "frequent-buyers-se"}}
    assert client.post("/v1/audiences", headers=ws.auth, json=user).status_code == 201
    refused = client.delete("/v1/audiences/frequent-buyers-se", headers=ws.auth)
    assert refused.status_code == 409 and "users" in refused.text
    assert client.delete("/v1/audiences/users", headers=ws.auth).status_code == 204
    assert client.delete("/v1/audiences/frequent-buyers-se", headers=ws.auth).status_code == 204
    assert client.get("/v1/audiences/frequent-buyers-se", headers=ws.auth).status_code == 404


def test_uploaded_list_replaces_or_appends(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    people(client, ws)
    settle(app, client)
    made = client.post("/v1/audiences", headers=ws.auth, json={"name": "vip", "type": "list"})
    assert made.status_code == 201, made.text
    csv_text = "email\nANNA@example.com\nbo@example.com\nnobody@example.com\n"
    answer = client.post(
        "/v1/audiences/vip/upload",
        headers={**ws.auth, "Content-Type": "text/csv"},
        content=csv_text.encode(),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"rows": 3, "matched": 2, "unknown": 1, "count": 2}
    more = "user_id\ndag\n"
    appended = client.post(
        "/v1/audiences/vip/upload",
        headers={**ws.auth, "Content-Type": "text/csv"},
        params={"mode": "append"},
        content=more.encode(),
    )
    assert appended.json()["count"] == 3
    replaced = client.post(
        "/v1/audiences/vip/upload",
        headers={**ws.auth, "Content-Type": "text/csv"},
        content=b"user_id\ncecilia\n",
    )
    assert replaced.json()["count"] == 1
    members = client.get("/v1/audiences/vip/members", headers=ws.auth).json()
    assert user_ids(members["items"]) == {"cecilia"}
    assert client.get("/v1/audiences/vip", headers=ws.auth).json()["count"] == 1


def test_upload_errors_name_the_problem(client: TestClient, ws: WorkspaceKeys) -> None:
    assert client.post("/v1/audiences", headers=ws.auth, json=FREQUENT).status_code == 201
    dynamic = client.post(
        "/v1/audiences/frequent-buyers-se/upload", headers=ws.auth, content=b"email\n"
    )
    assert dynamic.status_code == 409 and "list" in dynamic.text
    assert (
        client.post(
            "/v1/audiences", headers=ws.auth, json={"name": "l", "type": "list"}
        ).status_code
        == 201
    )
    no_header = client.post("/v1/audiences/l/upload", headers=ws.auth, content=b"")
    assert no_header.status_code == 400 and "header" in no_header.text
    bad_mode = client.post(
        "/v1/audiences/l/upload", headers=ws.auth, params={"mode": "merge"}, content=b"email\n"
    )
    assert bad_mode.status_code == 400 and "mode" in bad_mode.text
    not_utf8 = client.post("/v1/audiences/l/upload", headers=ws.auth, content=b"email\n\xff\xfe\n")
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.text
