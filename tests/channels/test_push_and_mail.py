"""The push router, web push registration, and direct mail extracts across batches."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import duckdb
import orjson
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.channels.direct_mail import postal_address
from clarion.channels.push import PushRouter
from clarion.channels.registry import channel_factories
from clarion.outbound import Outbound, OutboundPolicy
from clarion.surfaces import make_identity_token, store
from tests.channels.vendors import Browser
from tests.conftest import WorkspaceKeys, drain_consumers

# --- the push router ---------------------------------------------------------


class Named:
    def __init__(self, name: str) -> None:
        self.name, self.channel, self.sent = name, "push", []  # type: tuple[str, str, list[str]]

    async def send(self, message: RenderedMessage) -> SendResult:
        self.sent.append(message.to)
        return SendResult(SendStatus.SENT, provider_message_id=self.name)

    async def close(self) -> None:
        return None


def routed(router: PushRouter, token: str) -> SendResult:
    message = RenderedMessage(
        message_id="msg_1", workspace_id="ws", channel="push", to=token, fields={"body": "x"}
    )
    return asyncio.run(router.send(message))


APNS_TOKEN = "0f" * 32


def test_each_token_goes_to_the_vendor_that_issued_it() -> None:
    fcm, apns, webpush = Named("fcm"), Named("apns"), Named("webpush")
    router = PushRouter(fcm=fcm, apns=apns, webpush=webpush)  # type: ignore[arg-type]
    answers = [
        routed(router, t).provider_message_id for t in ("webpush:wps_1", APNS_TOKEN, "fcm:x")
    ]
    assert answers == ["webpush", "apns", "fcm"]
    # Without APNs configured, FCM reaches iOS too; without Web Push, a subscription fails.
    only_fcm = PushRouter(fcm=fcm)  # type: ignore[arg-type]
    assert routed(only_fcm, APNS_TOKEN).provider_message_id == "fcm"
    refused = routed(only_fcm, "webpush:wps_1")
    assert refused.status is SendStatus.PERMANENT and "no push provider" in (refused.error or "")


# --- web push registration -------------------------------------------------------


def register(
    client: TestClient, ws: WorkspaceKeys, profile: str, browser: Browser, **headers: str
) -> Any:
    return client.post(
        "/v1/push/subscriptions",
        auth=(ws.write_key, ""),
        headers=headers,
        json={"profile": profile, "subscription": browser.subscription()},
    )


def test_registering_a_subscription_follows_the_surface_rules(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    browser = Browser("https://push.example/send/abc")
    made = register(client, ws, "anonymous_id:visitor-1", browser, origin="https://shop.example")
    assert made.status_code == 201, made.text
    assert made.headers["access-control-allow-origin"] == "https://shop.example"
    token = made.json()["device_token"]
    assert token == f"webpush:{made.json()['id']}"
    drain_consumers(client)
    found = client.get(
        "/v1/profiles", params={"identity": "anonymous_id:visitor-1"}, headers=ws.auth
    ).json()
    assert {"namespace": "device_token", "value": token} in found["identities"]
    with app.state.services.db.read() as tx:
        stored = store.get_subscription(tx, ws.id, made.json()["id"])
    assert stored is not None and stored["endpoint"] == "https://push.example/send/abc"
    # A user id needs the user's identity token with the write key.
    assert register(client, ws, "user_id:u-1", browser).status_code == 401
    secret = client.get("/v1/identity-secret", headers=ws.auth).json()["secret"]
    now = int(app.state.services.clock.now().timestamp())
    wrong = make_identity_token(secret, "u-2", now + 60)
    assert (
        register(client, ws, "user_id:u-1", browser, **{"X-Clarion-Identity-Token": wrong})
    ).status_code == 401
    right = make_identity_token(secret, "u-1", now + 60)
    assert (
        register(client, ws, "user_id:u-1", browser, **{"X-Clarion-Identity-Token": right})
    ).status_code == 201
    # Bad input is a 4xx, and changes nothing.
    bad = client.post(
        "/v1/push/subscriptions",
        auth=(ws.write_key, ""),
        json={"profile": "email:a@b.c", "subscription": browser.subscription()},
    )
    assert bad.status_code == 400
    not_http = {**browser.subscription(), "endpoint": "javascript:alert(1)"}
    bad = client.post(
        "/v1/push/subscriptions",
        auth=(ws.write_key, ""),
        json={"profile": "anonymous_id:v", "subscription": not_http},
    )
    assert bad.status_code in (400, 422)
    assert client.post("/v1/push/subscriptions", json={}).status_code == 401


def test_erasing_a_profile_removes_its_subscriptions(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    made = register(client, ws, "anonymous_id:gone", Browser("https://push.example/1")).json()
    drain_consumers(client)
    pid = client.get(
        "/v1/profiles", params={"identity": "anonymous_id:gone"}, headers=ws.auth
    ).json()["id"]
    with app.state.services.db.read() as tx:  # the visitor was new: owned once the log is read
        owned = store.get_subscription(tx, ws.id, made["id"])
    assert owned is not None and owned["profile_id"] == pid
    assert client.delete(f"/v1/profiles/{pid}", headers=ws.auth).status_code in (200, 202, 204)
    with app.state.services.db.read() as tx:
        assert store.get_subscription(tx, ws.id, made["id"]) is None


# --- direct mail -------------------------------------------------------------------


def test_postal_addresses_accept_common_spellings_and_name_what_is_missing() -> None:
    nested = {
        "address": {"line1": "Storgatan 1", "zip": "11122", "locality": "Sthlm", "country": "SE"}
    }
    address, reason = postal_address({"first_name": "Ann", "last_name": "Berg", **nested})
    assert reason is None and address is not None
    assert (address["name"], address["street"], address["postal_code"]) == (
        "Ann Berg",
        "Storgatan 1",
        "11122",
    )
    flat = {"street": "Main St 5", "city": "Oslo", "country": "NO"}
    assert postal_address(flat) == (None, "incomplete_address: missing postal_code")
    assert postal_address({})[1] == "incomplete_address: missing street, city, postal_code, country"


def mail(workspace_id: str, n: int, run: str) -> RenderedMessage:
    address = '{"city":"Oslo","country":"NO","postal_code":"0150","street":"Gate ' + str(n) + '"}'
    return RenderedMessage(
        message_id=f"msg_{n:032d}",
        workspace_id=workspace_id,
        channel="direct_mail",
        to=address,
        fields={"fields": {"n": n, "offer": {"code": f"C{n}"}}},
        profile_id=f"p{n}",
        source={"kind": "campaign", "id": "winter", "run": run},
    )


def test_each_run_keeps_one_extract_rewritten_after_every_batch(
    app: FastAPI, ws: WorkspaceKeys, tmp_path: Path
) -> None:
    services = app.state.services
    factories = channel_factories(services.db, Outbound(OutboundPolicy()), "http://x")
    provider: Any = factories["direct_mail"]({"folder": str(tmp_path)}, services.clock)

    async def batches() -> None:
        await provider.send_many([mail(ws.id, 1, "r1"), mail(ws.id, 2, "r1")])
        await provider.send_many([mail(ws.id, 3, "r1"), mail(ws.id, 2, "r1"), mail(ws.id, 4, "r2")])

    asyncio.run(batches())
    folder = tmp_path / ws.id
    with (folder / "campaign_winter_r1.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["street"] for r in rows] == ["Gate 1", "Gate 2", "Gate 3"]  # a resend is one row
    assert rows[0]["offer.code"] == "C1" and rows[0]["n"] == "1"
    with duckdb.connect() as con:
        parquet = str(folder / "campaign_winter_r1.parquet")
        counted = con.execute("SELECT count(*) FROM read_parquet(?)", [parquet]).fetchone()
    assert counted == (3,)
    with services.db.read() as tx:
        one = store.mail_run(tx, ws.id, "campaign:winter:r1")
        two = store.mail_run(tx, ws.id, "campaign:winter:r2")
    assert one is not None and two is not None
    assert (one["rows"], two["rows"]) == (3, 1)
    assert one["csv_path"] == str(folder / "campaign_winter_r1.csv")


# --- clarion vapid-keys --------------------------------------------------------------


def test_vapid_keys_from_the_cli_sign_web_pushes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clarion.channels.webpush import WebPushProvider
    from clarion.cli.main import app as cli
    from clarion.clock import SystemClock
    from tests.channels.vendors import vapid_claims
    from tests.outbound.server import Reply, VendorServer

    printed = CliRunner().invoke(cli, ["vapid-keys", "--json"])
    assert printed.exit_code == 0, printed.output
    keys = orjson.loads(printed.output)
    human = CliRunner().invoke(cli, ["vapid-keys"])
    assert "applicationServerKey" in human.output and keys["public_key"] not in human.output
    with VendorServer(lambda _r: Reply(201, b"")) as push_service:
        browser = Browser(f"{push_service.url}/wpush/1")
        found = {**browser.subscription()["keys"], "endpoint": browser.endpoint}
        settings = {"vapid_private_key": keys["private_key"], "subject": "mailto:ops@shop.example"}
        policy = OutboundPolicy.allowing("127.0.0.1", timeout=5)
        provider = WebPushProvider(
            settings, Outbound(policy).client(), SystemClock(), lambda _w, _s, _p: found
        )
        message = RenderedMessage(
            message_id="msg_1",
            workspace_id="ws",
            channel="push",
            to="webpush:1",
            fields={"body": "Hi"},
        )

        async def send() -> SendResult:
            try:
                return await provider.send(message)
            finally:
                await provider.close()

        # The push service checks the JWT's expiry against its own (real) clock.
        assert asyncio.run(send()).status is SendStatus.SENT
        [request] = push_service.requests
    claims = vapid_claims(request, keys["public_key"], push_service.url)
    assert claims["sub"] == "mailto:ops@shop.example"
    assert browser.decrypt(request) == {"body": "Hi", "message_id": "msg_1"}
