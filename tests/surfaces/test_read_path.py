"""The surface read path on SQLite and PostgreSQL: ordering, expiry, caps, frequency rules,
merged profiles and identity tokens, through the pre-compiled statements on a pooled
connection (write key) and through a transaction (a secret key's `profile_id:` lookups)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.storage.sql import SqlDatabase
from clarion.surfaces import make_identity_token
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys, drain_consumers, make_workspace, settings_for_tests
from tests.delivery.harness import apply, deliver


@pytest.fixture
def env(db: SqlDatabase, clock: FakeClock) -> Iterator[tuple[TestClient, WorkspaceKeys]]:
    app = create_app(settings_for_tests(), db=db, clock=clock)
    ws = make_workspace(app)
    with TestClient(app) as client:
        yield client, ws


def card(name: str, **spec: Any) -> dict[str, Any]:
    return {"kind": "template", "name": name, "channel": "content_card", "title": name, **spec}


def identify(client: TestClient, ws: WorkspaceKeys, **body: Any) -> None:
    assert client.post("/v1/identify", json=body, auth=(ws.write_key, "")).status_code == 200
    drain_consumers(client)


def profile_of(client: TestClient, ws: WorkspaceKeys, identity: str) -> str:
    found = client.get("/v1/profiles", params={"identity": identity}, headers=ws.auth)
    return str(found.json()["id"])


def send(client: TestClient, ws: WorkspaceKeys, template: str, profile: str) -> str:
    made = client.post(
        "/v1/messages",
        headers=ws.auth,
        json={"channel": "content_card", "template": template, "profile_id": profile},
    )
    assert made.status_code == 202, made.text
    return str(made.json()["message_id"])


def titles(client: TestClient, ws: WorkspaceKeys, profile: str, **headers: str) -> Any:
    answer = client.get(
        "/v1/surfaces/cards", params={"profile": profile}, auth=(ws.write_key, ""), headers=headers
    )
    if answer.status_code != 200:
        return answer.status_code
    return [item["content"]["title"] for item in answer.json()["items"]]


def test_order_expiry_and_caps(env: tuple[TestClient, WorkspaceKeys], clock: FakeClock) -> None:
    client, ws = env
    apply(
        client,
        ws,
        card("low", priority=1),
        card("high", priority=9),
        card("pinned", pinned=True),
        card("brief", priority=5, expires="1h"),
    )
    identify(client, ws, anonymousId="a-1", traits={"first_name": "Ann"})
    pid = profile_of(client, ws, "anonymous_id:a-1")
    for name in ("low", "high", "pinned", "brief"):
        send(client, ws, name, pid)
    assert deliver(client.app).sent == 4  # type: ignore[arg-type]
    assert titles(client, ws, "anonymous_id:a-1") == ["pinned", "high", "brief", "low"]
    clock.advance(hours=1)
    assert titles(client, ws, "anonymous_id:a-1") == ["pinned", "high", "low"]
    limited = client.get(
        "/v1/surfaces/cards",
        params={"profile": "anonymous_id:a-1", "limit": "1"},
        auth=(ws.write_key, ""),
    )
    assert [i["content"]["title"] for i in limited.json()["items"]] == ["pinned"]
    for bad in ("0", "201", "x"):
        wrong = client.get(
            "/v1/surfaces/cards",
            params={"profile": "anonymous_id:a-1", "limit": bad},
            auth=(ws.write_key, ""),
        )
        assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "limit"
    assert client.get("/v1/surfaces/cards", auth=(ws.write_key, "")).status_code == 400
    assert titles(client, ws, "anonymous_id:nobody") == []  # unknown: empty, not an error


def test_a_frequency_rule_holds_a_channel_back_after_an_impression(
    env: tuple[TestClient, WorkspaceKeys], clock: FakeClock
) -> None:
    client, ws = env
    apply(client, ws, card("one"), card("two"))
    rule = {"settings": {"surfaces": {"content_card": {"min_interval_seconds": 600}}}}
    assert client.put("/v1/workspace/settings", headers=ws.auth, json=rule).status_code == 200
    identify(client, ws, anonymousId="a-2")
    pid = profile_of(client, ws, "anonymous_id:a-2")
    first = send(client, ws, "one", pid)
    send(client, ws, "two", pid)
    deliver(client.app)  # type: ignore[arg-type]
    assert len(titles(client, ws, "anonymous_id:a-2")) == 2
    seen = client.post(
        f"/v1/surfaces/cards/{first}/read",
        params={"profile": "anonymous_id:a-2"},
        auth=(ws.write_key, ""),
    )
    assert seen.status_code == 200
    assert titles(client, ws, "anonymous_id:a-2") == []
    clock.advance(seconds=600)
    assert len(titles(client, ws, "anonymous_id:a-2")) == 2


def test_merged_profiles_keep_their_content_and_known_users_need_their_token(
    env: tuple[TestClient, WorkspaceKeys], clock: FakeClock
) -> None:
    client, ws = env
    apply(client, ws, card("as-visitor"), card("as-user"))
    identify(client, ws, anonymousId="visitor-9")
    identify(client, ws, userId="u-9", traits={"first_name": "Vera"})
    send(client, ws, "as-visitor", profile_of(client, ws, "anonymous_id:visitor-9"))
    send(client, ws, "as-user", profile_of(client, ws, "user_id:u-9"))
    deliver(client.app)  # type: ignore[arg-type]
    assert titles(client, ws, "anonymous_id:visitor-9") == ["as-visitor"]
    identify(client, ws, anonymousId="visitor-9", userId="u-9")  # the visitor logs in: merged
    # The visitor's anonymous id now names a known user: the write key alone is refused.
    assert titles(client, ws, "anonymous_id:visitor-9") == 401
    assert titles(client, ws, "user_id:u-9") == 401
    secret = client.get("/v1/identity-secret", headers=ws.auth).json()["secret"]
    token = make_identity_token(secret, "u-9", int(clock.now().timestamp()) + 60)
    as_user = {"X-Clarion-Identity-Token": token}
    assert sorted(titles(client, ws, "user_id:u-9", **as_user)) == ["as-user", "as-visitor"]
    assert sorted(titles(client, ws, "anonymous_id:visitor-9", **as_user)) == [
        "as-user",
        "as-visitor",
    ]
    # A secret key may ask by any identity, the profile id included.
    survivor = profile_of(client, ws, "user_id:u-9")
    for identity in ("user_id:u-9", f"profile_id:{survivor}"):
        answer = client.get("/v1/surfaces/cards", params={"profile": identity}, headers=ws.auth)
        assert len(answer.json()["items"]) == 2, identity
    clock.advance(seconds=61)
    assert titles(client, ws, "user_id:u-9", **as_user) == 401  # the token expired
