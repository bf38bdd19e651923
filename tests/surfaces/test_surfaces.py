"""Inbound surfaces through the API: eligibility, access rules, card state, OFREP."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

from clarion.surfaces import make_identity_token
from tests.conftest import LiveServer, WorkspaceKeys, drain_consumers
from tests.delivery.harness import apply, deliver, outcome_events

CARD = {
    "kind": "template",
    "name": "welcome-card",
    "channel": "content_card",
    "title": "Welcome {{ profile.first_name }}",
    "body": "10% off",
    "priority": 5,
}
OFFER = {
    "kind": "template",
    "name": "hero",
    "channel": "code",
    "surface": "home-hero",
    "json": {"headline": "Hi {{ profile.first_name }}", "variant": "b"},
}


def visitor(client: TestClient, ws: WorkspaceKeys, anonymous: str, user: str | None = None) -> str:
    body: dict[str, Any] = {"anonymousId": anonymous, "traits": {"first_name": "Ann"}}
    if user:
        body["userId"] = user
    assert client.post("/v1/identify", json=body, auth=(ws.write_key, "")).status_code == 200
    drain_consumers(client)
    found = client.get(
        "/v1/profiles", params={"identity": f"anonymous_id:{anonymous}"}, headers=ws.auth
    )
    return str(found.json()["id"])


def send(client: TestClient, ws: WorkspaceKeys, template: str, profile: str, channel: str) -> str:
    made = client.post(
        "/v1/messages",
        headers=ws.auth,
        json={"channel": channel, "template": template, "profile_id": profile},
    )
    assert made.status_code == 202, made.text
    return str(made.json()["message_id"])


def surface(client: TestClient, ws: WorkspaceKeys, name: str, profile: str, **headers: str) -> Any:
    return client.get(
        f"/v1/surfaces/{name}",
        params={"profile": profile},
        auth=(ws.write_key, ""),
        headers=headers,
    )


def test_a_card_is_eligible_read_and_dismissed_with_outcome_events(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(client, ws, CARD)
    pid = visitor(client, ws, "anon-1")
    mid = send(client, ws, "welcome-card", pid, "content_card")
    assert deliver(app).sent == 1
    answer = surface(client, ws, "cards", "anonymous_id:anon-1", origin="https://shop.example")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"
    [card] = answer.json()["items"]
    assert card["id"] == mid and card["content"] == {"title": "Welcome Ann", "body": "10% off"}
    assert card["priority"] == 5 and card["read"] is False
    query = {"profile": "anonymous_id:anon-1"}
    read = client.post(f"/v1/surfaces/cards/{mid}/read", params=query, auth=(ws.write_key, ""))
    assert read.status_code == 200 and read.json()["read"] is True
    # Someone else's anonymous id cannot dismiss Ann's card.
    visitor(client, ws, "anon-2")
    other = client.post(
        f"/v1/surfaces/cards/{mid}/dismiss",
        params={"profile": "anonymous_id:anon-2"},
        auth=(ws.write_key, ""),
    )
    assert other.status_code == 404
    gone = client.post(f"/v1/surfaces/cards/{mid}/dismiss", params=query, auth=(ws.write_key, ""))
    assert gone.status_code == 200
    assert surface(client, ws, "cards", "anonymous_id:anon-1").json()["items"] == []
    names = [e["event"] for e in outcome_events(client, ws, pid)]
    assert names == ["message.sent", "message.opened", "message.dismissed"]


def test_access_rules_of_the_write_key(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> None:
    apply(client, ws, CARD)
    pid = visitor(client, ws, "anon-9", user="u-9")
    send(client, ws, "welcome-card", pid, "content_card")
    deliver(app)
    # Unknown profile: an empty list, not an error.
    assert surface(client, ws, "cards", "anonymous_id:nobody").json() == {
        "surface": "cards",
        "items": [],
    }
    # A user id, or a known user's anonymous id, needs the user's identity token.
    assert surface(client, ws, "cards", "user_id:u-9").status_code == 401
    assert surface(client, ws, "cards", "anonymous_id:anon-9").status_code == 401
    secret = client.get("/v1/identity-secret", headers=ws.auth).json()["secret"]
    now = int(app.state.services.clock.now().timestamp())
    token = make_identity_token(secret, "u-9", now + 600)
    ok = surface(client, ws, "cards", "user_id:u-9", **{"X-Clarion-Identity-Token": token})
    assert ok.status_code == 200 and len(ok.json()["items"]) == 1
    forged = make_identity_token("f" * 64, "u-9", now + 600)
    assert (
        surface(
            client, ws, "cards", "user_id:u-9", **{"X-Clarion-Identity-Token": forged}
        ).status_code
        == 401
    )
    expired = make_identity_token(secret, "u-9", now - 1)
    assert (
        surface(
            client, ws, "cards", "user_id:u-9", **{"X-Clarion-Identity-Token": expired}
        ).status_code
        == 401
    )
    other_user = make_identity_token(secret, "u-10", now + 600)
    assert (
        surface(
            client, ws, "cards", "user_id:u-9", **{"X-Clarion-Identity-Token": other_user}
        ).status_code
        == 401
    )
    # A secret key may ask for anyone.
    assert (
        len(
            client.get(
                "/v1/surfaces/cards", params={"profile": "user_id:u-9"}, headers=ws.auth
            ).json()["items"]
        )
        == 1
    )


def test_an_in_app_message_is_shown_up_to_its_display_cap(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(
        client,
        ws,
        {
            "kind": "template",
            "name": "promo",
            "channel": "in_app",
            "html": "<p>Sale, {{ profile.first_name }}</p>",
            "expires": "1d",
        },
    )
    pid = visitor(client, ws, "anon-3")
    mid = send(client, ws, "promo", pid, "in_app")
    deliver(app)
    [item] = surface(client, ws, "in_app", "anonymous_id:anon-3").json()["items"]
    assert item["content"]["html"] == "<p>Sale, Ann</p>" and item["expires_at"]
    client.post(
        f"/v1/surfaces/cards/{mid}/read",
        params={"profile": "anonymous_id:anon-3"},
        auth=(ws.write_key, ""),
    )
    assert surface(client, ws, "in_app", "anonymous_id:anon-3").json()["items"] == []


def test_an_openfeature_sdk_fetches_a_code_based_experience(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, live_server: LiveServer
) -> None:
    apply(client, ws, OFFER)
    pid = visitor(client, ws, "anon-5")
    mid = send(client, ws, "hero", pid, "code")
    deliver(app)
    openfeature.set_provider(
        OFREPProvider(
            live_server.url, headers_factory=lambda: {"Authorization": f"Bearer {ws.write_key}"}
        )
    )
    flags = openfeature.get_client()
    details = flags.get_object_details(
        "home-hero", {"headline": "default"}, EvaluationContext(targeting_key="anon-5")
    )
    assert details.value == {"headline": "Hi Ann", "variant": "b"}
    assert details.variant == mid and details.reason == "TARGETING_MATCH"
    fallback = flags.get_object_details(
        "home-hero", {"headline": "default"}, EvaluationContext(targeting_key="stranger")
    )
    assert fallback.value == {"headline": "default"} and fallback.error_code == "FLAG_NOT_FOUND"
    bulk = client.post(
        "/ofrep/v1/evaluate/flags",
        json={"context": {"targetingKey": "anon-5"}},
        auth=(ws.write_key, ""),
    )
    assert [f["key"] for f in bulk.json()["flags"]] == ["home-hero"]
    again = client.post(
        "/ofrep/v1/evaluate/flags",
        json={"context": {"targetingKey": "anon-5"}},
        auth=(ws.write_key, ""),
        headers={"If-None-Match": bulk.headers["etag"]},
    )
    assert again.status_code == 304
