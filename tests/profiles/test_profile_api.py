"""Profiles, consent and erasure over the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from clarion.storage.schema import metadata
from tests.conftest import WorkspaceKeys, drain_consumers


def identify(client: TestClient, ws: WorkspaceKeys, **body: Any) -> None:
    response = client.post("/v1/identify", json=body, auth=(ws.write_key, ""))
    assert response.status_code == 200, response.text


def profile_by(client: TestClient, ws: WorkspaceKeys, identity: str) -> dict[str, Any]:
    drain_consumers(client)
    response = client.get("/v1/profiles", params={"identity": identity}, headers=ws.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_profile_lookup_by_identity_and_by_id(client: TestClient, ws: WorkspaceKeys) -> None:
    identify(
        client,
        ws,
        userId="42",
        anonymousId="anon-1",
        traits={"email": "Eva@Example.com", "first_name": "Eva"},
    )
    found = profile_by(client, ws, "email:eva@example.com")
    assert found["traits"] == {"email": "Eva@Example.com", "first_name": "Eva"}
    assert {"namespace": "user_id", "value": "42"} in found["identities"]
    assert profile_by(client, ws, "user_id:42")["id"] == found["id"]
    assert profile_by(client, ws, "anonymous_id:anon-1")["id"] == found["id"]
    by_id = client.get(f"/v1/profiles/{found['id']}", headers=ws.auth).json()
    assert by_id == found
    nobody = client.get("/v1/profiles", params={"identity": "email:no@one.se"}, headers=ws.auth)
    assert nobody.status_code == 404
    malformed = client.get("/v1/profiles", params={"identity": "nocolon"}, headers=ws.auth)
    assert malformed.status_code == 400 and malformed.json()["error"]["field"] == "identity"


def test_profile_events_page_newest_first(client: TestClient, ws: WorkspaceKeys) -> None:
    for n in range(5):
        client.post("/v1/track", json={"userId": "p", "event": f"E{n}"}, auth=(ws.write_key, ""))
    pid = profile_by(client, ws, "user_id:p")["id"]
    first = client.get(f"/v1/profiles/{pid}/events", params={"limit": 3}, headers=ws.auth).json()
    assert [e["event"] for e in first["items"]] == ["E4", "E3", "E2"]
    rest = client.get(
        f"/v1/profiles/{pid}/events", params={"limit": 3, "cursor": first["next"]}, headers=ws.auth
    ).json()
    assert [e["event"] for e in rest["items"]] == ["E1", "E0"] and rest["next"] is None


def test_subscription_groups_defaults_and_explicit_states(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    for name, default in (("newsletter", "opt_in"), ("product-news", "opt_out")):
        made = client.post(
            "/v1/subscription-groups",
            headers=ws.auth,
            json={"name": name, "channel": "email", "default": default},
        )
        assert made.status_code == 201 and made.json()["default"] == default
    bad = client.post(
        "/v1/subscription-groups", headers=ws.auth, json={"name": "x", "channel": "pigeon"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["problems"][0]["path"] == "channel"
    identify(client, ws, userId="s1", traits={"email": "s1@example.com"})
    pid = profile_by(client, ws, "user_id:s1")["id"]

    def state() -> dict[tuple[str, str | None], bool]:
        items = client.get(f"/v1/profiles/{pid}/subscriptions", headers=ws.auth).json()["items"]
        return {(i["channel"], i["group"]): i["subscribed"] for i in items}

    assert state() == {
        ("email", None): True,
        ("email", "newsletter"): False,
        ("email", "product-news"): True,
    }
    changed = client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=ws.auth,
        json={
            "subscriptions": [{"channel": "email", "group": "newsletter", "status": "subscribed"}]
        },
    )
    assert changed.status_code == 200
    assert state()[("email", "newsletter")] is True
    client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=ws.auth,
        json={"subscriptions": [{"channel": "email", "status": "unsubscribed"}]},
    )
    assert set(state().values()) == {False}  # a whole-channel opt-out wins over every group
    history = client.get(f"/v1/profiles/{pid}/subscriptions/history", headers=ws.auth).json()
    assert [(h["group"], h["status"], h["source"]) for h in history["items"]] == [
        ("newsletter", "subscribed", "api"),
        (None, "unsubscribed", "api"),
    ]
    wrong = client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=ws.auth,
        json={"subscriptions": [{"channel": "sms", "group": "newsletter", "status": "subscribed"}]},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["field"] == "subscriptions[0].group"


def test_consent_by_address_applies_to_the_profile_with_that_address(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    response = client.put(
        "/v1/subscriptions/by-address",
        headers=ws.auth,
        json={"channel": "email", "address": "Later@Example.com", "status": "unsubscribed"},
    )
    assert response.status_code == 200
    identify(client, ws, userId="later", traits={"email": "later@example.com"})
    pid = profile_by(client, ws, "user_id:later")["id"]
    items = client.get(f"/v1/profiles/{pid}/subscriptions", headers=ws.auth).json()["items"]
    assert items == [] or all(not i["subscribed"] for i in items if i["channel"] == "email")
    from clarion.profiles.consent import is_profile_subscribed

    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.read() as tx:
        assert not is_profile_subscribed(tx, ws.id, pid, "email")
        assert is_profile_subscribed(tx, ws.id, pid, "sms")


def test_csv_import_keeps_good_rows_and_reports_bad_ones(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    identify(client, ws, userId="c1")
    drain_consumers(client)
    csv_text = (
        "user_id,address,channel,group,status\n"
        "c1,,email,,unsubscribed\n"
        ",new@example.com,email,,unsubscribed\n"
        "c1,,email,,maybe\n"
        "nobody,,email,,unsubscribed\n"
    )
    response = client.post(
        "/v1/subscriptions/import",
        content=csv_text.encode(),
        headers={**ws.auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["imported"] == 2
    assert [(r["line"], r["field"]) for r in body["rejected"]] == [(4, "status"), (5, "row")]
    pid = profile_by(client, ws, "user_id:c1")["id"]
    history = client.get(f"/v1/profiles/{pid}/subscriptions/history", headers=ws.auth).json()
    assert [(h["status"], h["source"]) for h in history["items"]] == [("unsubscribed", "import")]


def dump(client: TestClient) -> str:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.engine.connect() as conn:
        return "\n".join(
            str(value)
            for table in metadata.sorted_tables
            for row in conn.execute(select(table))
            for value in row
        )


def test_erasure_forgets_the_person_and_keeps_them_from_coming_back(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    identify(
        client,
        ws,
        userId="gdpr-7",
        anonymousId="anon-gdpr",
        traits={"email": "Forget@Me.example", "phone": "+46 70 123 45 67"},
    )
    client.post(
        "/v1/track",
        json={"userId": "gdpr-7", "event": "Bought", "messageId": "retry-1"},
        auth=(ws.write_key, ""),
    )
    identify(client, ws, userId="keeper", traits={"email": "keep@example.com"})
    pid = profile_by(client, ws, "user_id:gdpr-7")["id"]
    client.put(
        f"/v1/profiles/{pid}/subscriptions",
        headers=ws.auth,
        json={"subscriptions": [{"channel": "email", "status": "unsubscribed"}]},
    )

    erased = client.delete(f"/v1/profiles/{pid}", headers=ws.auth)
    assert erased.status_code == 200
    assert erased.json()["rows"]["profiles"] == 1 and erased.json()["rows"]["events"] >= 2
    text = dump(client)
    for secret in (
        pid,
        "gdpr-7",
        "anon-gdpr",
        "forget@me.example",
        "Forget@Me.example",
        "+46701234567",
    ):
        assert secret not in text, f"{secret!r} is still stored"
    assert "keep@example.com" in text  # other people are untouched

    # An SDK retry and a later event for the same person do not recreate them.
    client.post(
        "/v1/track",
        json={"userId": "gdpr-7", "event": "Bought", "messageId": "retry-1"},
        auth=(ws.write_key, ""),
    )
    client.post(
        "/v1/track",
        json={"anonymousId": "anon-gdpr", "event": "Came Back"},
        auth=(ws.write_key, ""),
    )
    drain_consumers(client)
    assert (
        client.get(
            "/v1/profiles", params={"identity": "user_id:gdpr-7"}, headers=ws.auth
        ).status_code
        == 404
    )
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.db.read() as tx:
        assert tx.tombstones.dropped(ws.id) == 2
    assert "gdpr-7" not in dump(client)

    # Re-imported under a new id with the same address: still opted out.
    identify(client, ws, userId="new-id", traits={"email": "forget@me.example"})
    new_pid = profile_by(client, ws, "user_id:new-id")["id"]
    from clarion.profiles.consent import is_profile_subscribed

    with services.db.read() as tx:
        assert not is_profile_subscribed(tx, ws.id, new_pid, "email")
    assert client.delete(f"/v1/profiles/{pid}", headers=ws.auth).status_code == 404
