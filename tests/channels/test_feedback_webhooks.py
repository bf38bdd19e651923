"""Vendor feedback through the API: Twilio keywords (signed), Postmark bounces (Basic auth)."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.channels.twilio import twilio_signature
from tests.conftest import WorkspaceKeys
from tests.delivery.harness import apply, deliver, identify, send, status

TOKEN = "twilio-auth-token"


def twilio_post(client: TestClient, path: str, params: dict[str, str], *, sign: bool = True) -> int:
    url = f"http://127.0.0.1:8000{path}"  # the public URL Twilio calls (settings.base_url)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = twilio_signature(TOKEN, url, params.items())
    response = client.post(path, content=urlencode(params), headers=headers)
    return response.status_code if response.status_code != 200 else 200


def test_stop_from_a_number_stops_marketing_sms_and_is_answered(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    configured = client.put(
        "/v1/channels/sms",
        headers=ws.auth,
        json={
            "provider": "twilio",
            "settings": {"account_sid": "AC1", "auth_token": TOKEN, "from": "+15550001"},
        },
    )
    assert configured.status_code == 200, configured.text
    apply(client, ws, {"kind": "template", "name": "promo", "channel": "sms", "body": "Sale!"})
    pid = identify(client, ws, "bo", phone="+46 70 111 22 33")
    path = f"/v1/webhooks/twilio/inbound?workspace={ws.id}"
    stop = {"From": "+46701112233", "To": "+15550001", "Body": " Stop ", "MessageSid": "SM1"}
    assert twilio_post(client, path, stop, sign=False) == 401
    forged = client.post(
        path,
        content=urlencode(stop),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "AAAA"},
    )
    assert forged.status_code == 401
    subs = client.get(f"/v1/profiles/{pid}/subscriptions", headers=ws.auth).json()["items"]
    assert all(i["subscribed"] for i in subs if i["channel"] == "sms")  # nothing changed yet
    url = f"http://127.0.0.1:8000{path}"
    answer = client.post(
        path,
        content=urlencode(stop),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(TOKEN, url, stop.items()),
        },
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert "<Message>You have been unsubscribed" in answer.text
    mid = send(client, ws, channel="sms", template="promo", profile_id=pid)
    assert deliver(app).skipped == 1
    assert status(client, ws, mid)["status"] == "skipped"
    start = dict(stop, Body="START", MessageSid="SM2")
    assert twilio_post(client, path, start) == 200
    help_reply = client.post(
        path,
        content=urlencode(dict(stop, Body="help", MessageSid="SM3")),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(
                TOKEN, url, dict(stop, Body="help", MessageSid="SM3").items()
            ),
        },
    )
    assert "Reply STOP to unsubscribe" in help_reply.text


def test_a_postmark_hard_bounce_suppresses_the_address(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    basic = "Basic " + base64.b64encode(f"{ws.secret_key}:".encode()).decode()
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "Email": "gone@example.com",
        "MessageID": "pm-1",
        "Description": "no mailbox",
    }
    assert client.post("/v1/webhooks/postmark", json=bounce).status_code == 401
    assert (
        client.post(
            "/v1/webhooks/postmark", json={"x": 1}, headers={"Authorization": basic}
        ).status_code
        == 400
    )
    done = client.post("/v1/webhooks/postmark", json=bounce, headers={"Authorization": basic})
    assert done.status_code == 200 and done.json()["recorded"][0]["suppressed"] is True
    soft = dict(bounce, Type="SoftBounce", TypeCode=4096, Email="full@example.com")
    kept = client.post("/v1/webhooks/postmark", json=soft, headers={"Authorization": basic})
    assert kept.json()["recorded"][0]["suppressed"] is False
    listed = client.get("/v1/suppressions", headers=ws.auth).json()["items"]
    assert [s["address"] for s in listed] == ["gone@example.com"]
