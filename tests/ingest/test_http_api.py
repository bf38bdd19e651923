"""The Segment HTTP Tracking API: auth, validation, limits, dedupe, clock skew, CloudEvents."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient

from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys, drain_consumers


def send(client: TestClient, ws: WorkspaceKeys, path: str, body: Any, **kw: Any) -> Any:
    return client.post(path, json=body, auth=(ws.write_key, ""), **kw)


def events_of(client: TestClient, ws: WorkspaceKeys, identity: str) -> list[dict[str, Any]]:
    drain_consumers(client)
    found = client.get("/v1/profiles", params={"identity": identity}, headers=ws.auth)
    assert found.status_code == 200, found.text
    listed = client.get(f"/v1/profiles/{found.json()['id']}/events", headers=ws.auth)
    return list(reversed(listed.json()["items"]))


def test_track_with_basic_auth_is_stored_and_answered_success(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    response = send(
        client,
        ws,
        "/v1/track",
        {"userId": "u1", "event": "Order Completed", "properties": {"total": 120}, "extraKey": 1},
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    events = events_of(client, ws, "user_id:u1")
    assert [(e["event"], e["properties"]) for e in events] == [("Order Completed", {"total": 120})]


def test_write_key_in_the_body_and_secret_key_as_bearer(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    body = {"writeKey": ws.write_key, "anonymousId": "a1", "event": "Viewed"}
    assert client.post("/v1/track", json=body).status_code == 200
    as_secret = client.post("/v1/track", json={"userId": "u2", "event": "X"}, headers=ws.auth)
    assert as_secret.status_code == 200
    wrong = client.post("/v1/track", json={"userId": "u", "event": "X"}, auth=("wk_nope", ""))
    assert wrong.status_code == 401


def assert_rejected(response: Any, status: int, field: str, words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert words in error["message"]


def test_bad_messages_get_400_naming_the_field(client: TestClient, ws: WorkspaceKeys) -> None:
    assert_rejected(
        send(client, ws, "/v1/track", {"event": "X"}),
        400,
        "userId",
        "userId or anonymousId is required",
    )
    assert_rejected(
        send(client, ws, "/v1/track", {"userId": "u"}), 400, "event", "needs an event name"
    )
    assert_rejected(
        send(client, ws, "/v1/track", {"userId": "u", "event": "X", "timestamp": "yesterday"}),
        400,
        "timestamp",
        "not an ISO 8601",
    )
    assert_rejected(
        send(client, ws, "/v1/identify", {"userId": "u", "traits": [1]}),
        400,
        "traits",
        "JSON object",
    )
    assert_rejected(send(client, ws, "/v1/alias", {"userId": "u"}), 400, "previousId", "previousId")
    assert_rejected(send(client, ws, "/v1/group", {"userId": "u"}), 400, "groupId", "groupId")
    bad_json = client.post(
        "/v1/track",
        content=b"{not json",
        auth=(ws.write_key, ""),
        headers={"Content-Type": "application/json"},
    )
    assert_rejected(bad_json, 400, "body", "not valid JSON")


def test_batch_keeps_valid_items_and_lists_refused_ones(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "One"},
            {"type": "track", "userId": "u1"},
            {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
            {"type": "launch", "userId": "u1"},
            {"type": "track", "anonymousId": "a", "event": "Two", "timestamp": "13/13/13"},
            {"type": "track", "userId": "u1", "event": "Three"},
        ],
        "context": {"library": {"name": "test"}},
    }
    response = send(client, ws, "/v1/batch", batch)
    assert response.status_code == 400
    body = response.json()
    assert body["accepted"] == 3
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "batch[1].event"),
        (3, "batch[3].type"),
        (4, "batch[4].timestamp"),
    ]
    names = [e["event"] or e["type"] for e in events_of(client, ws, "user_id:u1")]
    assert names == ["One", "identify", "Three"]


def test_batch_context_merges_into_each_item(client: TestClient, ws: WorkspaceKeys) -> None:
    batch = {
        "batch": [{"type": "track", "userId": "u", "event": "E", "context": {"locale": "sv-SE"}}],
        "context": {"timezone": "Europe/Stockholm", "locale": "en-US"},
    }
    assert send(client, ws, "/v1/batch", batch).status_code == 200
    drain_consumers(client)
    profile = client.get("/v1/profiles", params={"identity": "user_id:u"}, headers=ws.auth).json()
    assert profile["timezone"] == "Europe/Stockholm"
    assert profile["locale"] == "sv-SE"  # the item's own context wins


def test_reserved_names_and_consent_need_a_secret_key(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    reserved = {"userId": "u", "event": "message.opened"}
    assert_rejected(send(client, ws, "/v1/track", reserved), 400, "event", "reserved")
    consent = {"userId": "u", "context": {"consent": {"email": "subscribed"}}}
    assert_rejected(send(client, ws, "/v1/identify", consent), 400, "context.consent", "secret key")
    assert client.post("/v1/track", json=reserved, headers=ws.auth).status_code == 200
    assert client.post("/v1/identify", json=consent, headers=ws.auth).status_code == 200


def test_a_retried_message_is_stored_once(client: TestClient, ws: WorkspaceKeys) -> None:
    message = {"userId": "u", "event": "Paid", "messageId": "m-123"}
    for _ in range(3):
        assert send(client, ws, "/v1/track", message).status_code == 200
    assert send(client, ws, "/v1/batch", {"batch": [{**message, "type": "track"}]}).json() == {
        "success": True
    }
    assert len(events_of(client, ws, "user_id:u")) == 1


def test_device_clock_skew_is_corrected(
    client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    now = clock.now()
    fast = now + timedelta(hours=3)  # the device clock is three hours ahead
    message = {
        "userId": "u",
        "event": "Tapped",
        "timestamp": (fast - timedelta(minutes=10)).isoformat(),
        "sentAt": fast.isoformat(),
    }
    assert send(client, ws, "/v1/track", message).status_code == 200
    future = {"userId": "u", "event": "Future", "timestamp": (now + timedelta(days=2)).isoformat()}
    assert send(client, ws, "/v1/track", future).status_code == 200
    events = {e["event"]: e for e in events_of(client, ws, "user_id:u")}
    assert datetime.fromisoformat(events["Tapped"]["timestamp"]) == now - timedelta(minutes=10)
    assert datetime.fromisoformat(events["Future"]["timestamp"]) == now


def test_gzip_bodies_are_accepted(client: TestClient, ws: WorkspaceKeys) -> None:
    body = gzip.compress(
        orjson.dumps(
            {"batch": [{"type": "track", "userId": "gz", "event": f"E{i}"} for i in range(50)]}
        )
    )
    response = client.post(
        "/v1/batch",
        content=body,
        auth=(ws.write_key, ""),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert len(events_of(client, ws, "user_id:gz")) == 50


def test_size_limits_and_decompression_bombs(client: TestClient, ws: WorkspaceKeys) -> None:
    big_event = {"userId": "u", "event": "Big", "properties": {"blob": "x" * 33_000}}
    assert send(client, ws, "/v1/track", big_event).status_code == 413
    in_batch = send(
        client,
        ws,
        "/v1/batch",
        {
            "batch": [
                {**big_event, "type": "track"},
                {"type": "track", "userId": "u", "event": "Small"},
            ]
        },
    )
    assert in_batch.status_code == 400
    assert in_batch.json()["rejected"][0]["index"] == 0
    huge = {
        "batch": [
            {"type": "track", "userId": "u", "event": "E", "properties": {"blob": "y" * 30_000}}
        ]
        * 140
    }
    assert send(client, ws, "/v1/batch", huge).status_code == 413
    bomb = gzip.compress(b"[" + b" " * (200 * 1024 * 1024) + b"]")
    assert len(bomb) < 300_000
    response = client.post(
        "/v1/batch", content=bomb, auth=(ws.write_key, ""), headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 413
    odd = client.post(
        "/v1/batch", content=b"{}", auth=(ws.write_key, ""), headers={"Content-Encoding": "br"}
    )
    assert_rejected(odd, 400, "Content-Encoding", "unsupported")


def test_cloudevents_structured_batched_and_binary(client: TestClient, ws: WorkspaceKeys) -> None:
    event = {
        "specversion": "1.0",
        "id": "e1",
        "source": "/orders",
        "type": "Order Shipped",
        "subject": "ce-user",
        "time": "2026-01-05T08:00:00Z",
        "data": {"order": 7},
    }
    structured = client.post(
        "/v1/cloudevents",
        content=orjson.dumps(event),
        auth=(ws.write_key, ""),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    assert structured.status_code == 200
    again = client.post("/v1/cloudevents", json=event, auth=(ws.write_key, ""))
    assert again.status_code == 200  # same source + id: stored once
    batched = client.post(
        "/v1/cloudevents",
        content=orjson.dumps([{**event, "id": "e2"}, {**event, "id": "e3", "specversion": "0.3"}]),
        auth=(ws.write_key, ""),
        headers={"Content-Type": "application/cloudevents-batch+json"},
    )
    assert batched.status_code == 400
    assert batched.json()["rejected"] == [
        {"index": 1, "field": "events[1].specversion", "message": 'must be "1.0"'}
    ]
    binary = client.post(
        "/v1/cloudevents",
        json={"order": 9},
        auth=(ws.write_key, ""),
        headers={
            "ce-specversion": "1.0",
            "ce-id": "b1",
            "ce-source": "/orders",
            "ce-type": "Order Shipped",
            "ce-subject": "ce-user",
        },
    )
    assert binary.status_code == 200
    events = events_of(client, ws, "user_id:ce-user")
    assert [(e["event"], e["properties"]) for e in events] == [
        ("Order Shipped", {"order": 7}),
        ("Order Shipped", {"order": 7}),
        ("Order Shipped", {"order": 9}),
    ]
    assert datetime.fromisoformat(events[0]["timestamp"]) == datetime(2026, 1, 5, 8, tzinfo=UTC)
    missing = client.post(
        "/v1/cloudevents",
        json={"specversion": "1.0", "id": "x", "source": "/s"},
        auth=(ws.write_key, ""),
    )
    assert_rejected(missing, 400, "type", "required")
