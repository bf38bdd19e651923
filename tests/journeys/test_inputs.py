"""Bad journey documents, odd event data, profile merges and erasure."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.journeys.harness import apply_yaml, path_of, publish, settle, track


def test_an_invalid_journey_gets_400_naming_each_problem_by_node(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    body = {
        "name": "broken",
        "entry": {"type": "event", "event": "X"},
        "nodes": [
            {
                "id": "start",
                "type": "condition",
                "otherwise": "ghost",
                "branches": [
                    {"when": {"trait": {"path": "a", "op": "eq", "value": 1}}, "next": "loop"}
                ],
            },
            {"id": "loop", "type": "update_profile", "set": {"x": 1}, "next": "start"},
            {"id": "island", "type": "end"},
            {
                "id": "mail",
                "type": "message",
                "channel": "email",
                "template": "missing",
                "next": "island",
            },
        ],
    }
    response = client.post("/v1/journeys", json=body, headers=ws.auth)
    assert response.status_code == 400
    problems = {(p["path"], p["message"]) for p in response.json()["error"]["problems"]}
    assert ("nodes.start", "leads to 'ghost', which does not exist") in problems
    assert ("nodes.island", "no path reaches this node") in problems
    assert ("nodes.mail", "no path reaches this node") in problems
    assert any(path == "nodes.start" and "never waits" in message for path, message in problems)
    assert any("template/missing" in message for _path, message in problems)
    shape = client.post(
        "/v1/journeys",
        headers=ws.auth,
        json={
            "name": "shapeless",
            "entry": {"type": "event", "event": "X"},
            "nodes": [{"id": "w", "type": "wait", "duration": "forever", "next": "w"}],
        },
    )
    assert shape.status_code == 400
    assert shape.json()["error"]["problems"][0]["path"] == "nodes.w.duration"


def test_wrong_property_types_take_the_documented_path(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        ws,
        """
kind: journey
name: typed
entry:
  type: event
  event: Order Placed
  where: [{path: total, op: gte, value: 100}]
nodes:
  - id: big
    type: condition
    branches:
      - {when: {context: {path: entry.properties.items, op: gt, value: 2}}, next: many}
    otherwise: few
  - {id: many, type: update_profile, set: {basket: many}, next: done}
  - {id: few, type: update_profile, set: {basket: few}, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, ws, "typed")
    track(client, ws, "u1", "Order Placed", total="150", items=5)  # total is a string
    track(client, ws, "u2", "Order Placed", total=150, items="5")  # items is a string
    settle(app, client)
    assert path_of(client, ws, "u1") == []  # a string never passes `gte 100`: no entry
    [walk] = path_of(client, ws, "u2")
    assert walk["status"] == "completed"  # the wrong type compares false: `otherwise`
    assert [h["node"] for h in walk["history"]][:2] == ["big", "few"]


def test_a_merged_profile_brings_its_journeys_along(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        ws,
        """
kind: journey
name: welcome
entry: {type: event, event: App Opened}
nodes:
  - {id: later, type: wait, duration: 1h, next: mark}
  - {id: mark, type: update_profile, set: {welcomed: true}, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, ws, "welcome")
    client.post(
        "/v1/track",
        json={"anonymousId": "device-1", "event": "App Opened"},
        auth=(ws.write_key, ""),
    )
    settle(app, client)
    client.post(
        "/v1/identify", json={"userId": "known", "traits": {"plan": "pro"}}, auth=(ws.write_key, "")
    )
    settle(app, client)
    client.post(
        "/v1/identify", json={"userId": "known", "anonymousId": "device-1"}, auth=(ws.write_key, "")
    )
    settle(app, client)
    clock.advance(hours=1)
    settle(app, client)
    profile = client.get(
        "/v1/profiles", params={"identity": "user_id:known"}, headers=ws.auth
    ).json()
    assert profile["traits"] == {"plan": "pro", "welcomed": True}
    [walk] = path_of(client, ws, "known")
    assert walk["status"] == "completed"
    assert "profile merged" in [h["note"] for h in walk["history"]]


def test_erasure_removes_the_profiles_journeys(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply_yaml(
        client,
        ws,
        """
kind: journey
name: forget-me
entry: {type: event, event: Joined}
nodes:
  - {id: long, type: wait, duration: 30d, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, ws, "forget-me")
    track(client, ws, "gone", "Joined")
    settle(app, client)
    pid = client.get("/v1/profiles", params={"identity": "user_id:gone"}, headers=ws.auth).json()[
        "id"
    ]
    assert client.delete(f"/v1/profiles/{pid}", headers=ws.auth).status_code == 200
    stats = client.get("/v1/journeys/forget-me/stats", headers=ws.auth).json()["nodes"]
    assert stats["long"]["waiting"] == 0


def test_test_mode_walks_test_profiles_and_sends_nothing(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply_yaml(
        client,
        ws,
        """
kind: template
name: t
channel: sms
body: hi
---
kind: journey
name: draft
entry: {type: event, event: Signed Up}
nodes:
  - {id: wait, type: wait, duration: 3d, next: check}
  - id: check
    type: condition
    branches: [{when: {trait: {path: plan, op: eq, value: pro}}, next: pro}]
    otherwise: done
  - {id: pro, type: message, channel: sms, template: t, next: react}
  - id: react
    type: reaction
    events: [{event: Upgraded, next: done}]
    timeout: 1d
    timeout_next: done
  - {id: done, type: end}
""",
    )
    client.post(
        "/v1/identify",
        json={"userId": "tester", "traits": {"plan": "pro", "phone": "+4670"}},
        auth=(ws.write_key, ""),
    )
    settle(app, client)
    pid = client.get("/v1/profiles", params={"identity": "user_id:tester"}, headers=ws.auth).json()[
        "id"
    ]
    refused = client.post("/v1/journeys/draft/test", headers=ws.auth, json={"profiles": [pid]})
    assert refused.status_code == 409  # only profiles flagged as test profiles
    flagged = client.patch(f"/v1/profiles/{pid}", headers=ws.auth, json={"is_test": True})
    assert flagged.json()["is_test"] is True
    result = client.post(
        "/v1/journeys/draft/test",
        headers=ws.auth,
        json={"profiles": [pid], "events": [{"event": "Upgraded", "properties": {}}]},
    ).json()
    [walk] = result["results"]
    assert walk["status"] == "completed"
    assert [step["node"] for step in walk["path"]] == [
        "wait",
        "wait",
        "check",
        "pro",
        "react",
        "react",
        "done",
    ]
    assert walk["messages"] == [
        {"node": "pro", "channel": "sms", "template": "t", "category": "marketing"}
    ]
    assert client.get("/v1/outbox", headers=ws.auth).json()["items"] == []
    assert path_of(client, ws, "tester") == []  # nothing stored
