"""Signed tracking links, unsubscribe (page and RFC 8058 one-click), delivery webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.delivery.tracking import Links, sign, verify
from tests.conftest import WorkspaceKeys, drain_consumers
from tests.delivery.harness import (
    CART_REMINDER,
    apply,
    deliver,
    identify,
    outbox,
    outcome_events,
    send,
    status,
)


def sent_email(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> tuple[str, str, str]:
    apply(client, ws, CART_REMINDER)
    pid = identify(client, ws, "t", first_name="Tess", email="tess@example.com")
    mid = send(
        client,
        ws,
        channel="email",
        template="cart-reminder",
        profile_id=pid,
        event={"properties": {"cart_url": "https://shop.se/cart?id=7&x=1"}},
    )
    deliver(app)
    [message] = outbox(client, ws)
    return pid, mid, message["html"]


@pytest.mark.parametrize("key", ["k", "x" * 43, "y" * 64, "z" * 65, "å" * 100])
def test_token_signatures_are_hmac_sha256_of_the_payload(key: str) -> None:
    """The precomputed pads give what `hmac` gives, for keys shorter than, as long as,
    and longer than SHA-256's block (a longer key is hashed first)."""
    token = sign(key, {"w": "ws_1", "m": "msg_1", "u": "https://shop.se/?a=1"})
    body, _, mac = token.partition(".")
    expected = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest()[:16]
    assert base64.urlsafe_b64decode(mac + "==") == expected
    assert verify(key, token) == {"w": "ws_1", "m": "msg_1", "u": "https://shop.se/?a=1"}
    assert verify(key + "!", token) is None


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_open_pixel_and_click_redirect_record_events(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    pid, mid, html = sent_email(app, client, ws)
    pixel = re.search(r'<img src="([^"]+/t/o/[^"]+)"', html)
    link = re.search(r"href='([^']+/t/c/[^']+)'", html)
    assert pixel and link
    opened = client.get(path_of(pixel.group(1)))
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    clicked = client.get(path_of(link.group(1)), follow_redirects=False)
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://shop.se/cart?id=7&x=1"
    events = outcome_events(client, ws, pid)
    assert [e["event"] for e in events] == ["message.sent", "message.opened", "message.clicked"]
    assert events[2]["properties"]["url"] == "https://shop.se/cart?id=7&x=1"
    assert {e["properties"]["message_id"] for e in events} == {mid}


def test_forged_and_altered_links_are_refused(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    _pid, mid, html = sent_email(app, client, ws)
    link = re.search(r"href='[^']+/t/c/([^']+)'", html)
    assert link
    body, signature = link.group(1).split(".")
    evil = sign("not-the-key", {"w": ws.id, "m": mid, "u": "https://evil.example"})
    for token in (evil, f"{evil.split('.')[0]}.{signature}", "garbage", f"{body}.AAAA"):
        response = client.get(f"/t/c/{token}", follow_redirects=False)
        assert response.status_code == 400, token
        assert "location" not in response.headers
    assert client.get(f"/t/o/{evil}.gif").status_code == 400


def test_unsubscribe_page_does_not_unsubscribe_but_its_button_does(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    pid, mid, html = sent_email(app, client, ws)
    url = re.search(r"href='([^']+/u/[^']+)'", html)
    assert url
    page = client.get(path_of(url.group(1)))
    assert page.status_code == 200 and "<form" in page.text
    subscribed = client.get(f"/v1/profiles/{pid}/subscriptions", headers=ws.auth).json()
    assert subscribed["items"] == []  # a GET (a link scanner) changed nothing
    done = client.post(path_of(url.group(1)), data={"confirm": "1"})
    assert done.status_code == 200 and "Unsubscribed" in done.text
    items = client.get(f"/v1/profiles/{pid}/subscriptions", headers=ws.auth).json()["items"]
    assert {(i["channel"], i["subscribed"], i["source"]) for i in items} == {
        ("email", False, "unsubscribe_link")
    }
    events = outcome_events(client, ws, pid)
    assert events[-1]["event"] == "message.unsubscribed"
    again = send(
        client,
        ws,
        channel="email",
        template="cart-reminder",
        profile_id=pid,
        idempotency_key="next",
    )
    deliver(app)
    assert status(client, ws, again)["reason"] == "unsubscribed"
    assert mid != again


def test_one_click_unsubscribe_as_mail_providers_send_it(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    pid, _mid, html = sent_email(app, client, ws)
    url = re.search(r"href='([^']+/u/[^']+)'", html)
    assert url
    response = client.post(
        path_of(url.group(1)),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    history = client.get(f"/v1/profiles/{pid}/subscriptions/history", headers=ws.auth).json()
    assert [(h["status"], h["source"]) for h in history["items"]] == [("unsubscribed", "one_click")]


def test_delivery_webhook_bounces_suppress_and_bad_input_is_refused(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    pid, mid, _html = sent_email(app, client, ws)
    delivered = client.post(
        "/v1/webhooks/delivery", headers=ws.auth, json={"message_id": mid, "status": "delivered"}
    )
    assert delivered.status_code == 200
    bounced = client.post(
        "/v1/webhooks/delivery",
        headers=ws.auth,
        json={
            "message_id": mid,
            "status": "bounced",
            "bounce_type": "hard",
            "reason": "550 no such user",
        },
    )
    assert bounced.json()["suppressed"] is True
    suppressed = client.get("/v1/suppressions", headers=ws.auth).json()["items"]
    assert [(s["address"], s["reason"]) for s in suppressed] == [
        ("tess@example.com", "hard_bounce")
    ]
    drain_consumers(client)
    assert [e["event"] for e in outcome_events(client, ws, pid)][-2:] == [
        "message.delivered",
        "message.bounced",
    ]
    for body, field in (
        ({"message_id": mid, "status": "exploded"}, "status"),
        ({"status": "delivered"}, "message_id"),
        ({"message_id": mid, "status": "bounced", "bounce_type": "odd"}, "bounce_type"),
    ):
        response = client.post("/v1/webhooks/delivery", headers=ws.auth, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["field"] == field
    unknown = client.post(
        "/v1/webhooks/delivery",
        headers=ws.auth,
        json={"message_id": "msg_nope", "status": "delivered"},
    )
    assert unknown.status_code == 404
    unsigned = client.post("/v1/webhooks/delivery", json={"message_id": mid, "status": "delivered"})
    assert unsigned.status_code == 401


def test_the_open_pixel_goes_before_the_last_closing_body_in_any_case() -> None:
    links = Links("https://c.example", "key", "w1", "m1")
    pixel = f'<img src="{links.open_pixel}"'
    lower = links.rewrite("<html><body><p>Hi</p></body></html>")
    assert lower.index(pixel) == len("<html><body><p>Hi</p>")
    upper = links.rewrite("<HTML><BODY><p>Hi</p></BODY></HTML>")
    assert upper.index(pixel) == len("<HTML><BODY><p>Hi</p>")
    # A lower-case `</body>` quoted in the text, then the real one in capitals.
    mixed = links.rewrite("<BODY><p>type </body> here</p></Body>\n</HTML>")
    assert mixed.index(pixel) == len("<BODY><p>type </body> here</p>")
    no_body = links.rewrite("<p>no body</p>")
    assert no_body.startswith("<p>no body</p>" + pixel) and no_body.endswith(">")
