"""Every channel end to end through the running server (issue 10, "Done means" line 2).

One `clarion` app served by uvicorn with its background workers (consumers,
journeys, campaigns, dispatcher) on a SQLite file, and local servers playing
the vendors: an SMTP server, Twilio, Google's token endpoint and FCM, APNs (HTTP/2 over TLS,
reached at Apple's host name through the test's resolver), a browser push
service, a webhook receiver. Everything is driven over HTTP as a customer
would: configure the channel, apply the documents, send events; the test then
waits on what arrives at the vendor, at the surface, or in the profile's
outcome events.
"""

from __future__ import annotations

import csv
import email
import email.policy
import queue
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import httpx
import pytest
import standardwebhooks
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select

from clarion.api.app import create_app
from clarion.channels.twilio import twilio_signature
from clarion.channels.webhook import new_secret
from clarion.channels.webpush import generate_vapid_keys
from clarion.clock import SystemClock
from clarion.outbound import Outbound, system_resolver
from clarion.storage.schema import direct_mail_runs
from clarion.storage.sql import SqlDatabase
from clarion.surfaces import make_identity_token
from tests.channels.test_apns import HOST as APPLE_HOST
from tests.channels.test_apns import Apple, apns_key
from tests.channels.vendors import Browser, Fcm, Twilio, vapid_claims
from tests.conftest import LiveServer, WorkspaceKeys, free_port, make_workspace, settings_for_tests
from tests.outbound.h2server import H2Server
from tests.outbound.server import LocalCa, Recorded, Reply, VendorServer

pytestmark = pytest.mark.slow
T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 30) -> T:
    """Wait for a condition of the running system (the outcome of background work)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "the condition was not met in time"
        time.sleep(0.02)


@dataclass
class Stack:
    """The running server and the vendors it talks to."""

    app: FastAPI
    url: str
    twilio: VendorServer
    fcm: VendorServer
    fcm_vendor: Fcm
    apns: H2Server
    push_service: VendorServer
    hooks: VendorServer
    mail_folder: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    shutil.copy(sqlite_template, folder / "clarion.db")
    db = SqlDatabase.from_url(f"sqlite:///{folder / 'clarion.db'}")
    ca, fcm_vendor = LocalCa.create(), Fcm(dead={"fcm-dead-token"})
    port = free_port()
    settings = settings_for_tests(
        port=port, public_url=f"http://127.0.0.1:{port}", outbound_allow="127.0.0.1"
    )
    settings.workers = True
    app = create_app(settings, db=db, clock=SystemClock())
    with (
        VendorServer(Twilio()) as twilio,
        VendorServer(fcm_vendor) as fcm,
        H2Server(Apple(), ca.server_context(APPLE_HOST, folder)) as apns,
        VendorServer(lambda r: Reply(201, b"", {"Location": f"/m/{len(r.body)}"})) as push,
        VendorServer(lambda r: Reply(204, b"")) as hooks,
    ):
        outbound = app.state.services.extras["outbound"]
        assert isinstance(outbound, Outbound)

        async def resolve(host: str, port: int) -> list[tuple[str, int]]:
            if (host, port) == (APPLE_HOST, 443):
                return [("127.0.0.1", apns.port)]
            return await system_resolver(host, port)

        outbound.resolver = resolve
        outbound.verify = ca.client_context()
        with LiveServer(app, port=port) as server:
            yield Stack(app, server.url, twilio, fcm, fcm_vendor, apns, push, hooks, folder)
    db.close()


@pytest.fixture
def ws(stack: Stack) -> WorkspaceKeys:
    return make_workspace(stack.app, "Shop")


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def configure(http: httpx.Client, ws: WorkspaceKeys, channel: str, provider: str, **s: Any) -> None:
    ok(
        http.put(
            f"/v1/channels/{channel}", headers=ws.auth, json={"provider": provider, "settings": s}
        )
    )


def journey(http: httpx.Client, ws: WorkspaceKeys, channel: str, template: dict[str, Any]) -> str:
    """A template and a published journey: `<channel> Test` event -> message -> end."""
    event = f"{channel} Test"
    documents = [
        {"kind": "template", "name": f"{channel}-t", "channel": channel, **template},
        {
            "kind": "journey",
            "name": f"{channel}-j",
            "entry": {"type": "event", "event": event},
            "nodes": [
                {
                    "id": "send",
                    "type": "message",
                    "channel": channel,
                    "template": f"{channel}-t",
                    "next": "done",
                },
                {"id": "done", "type": "end"},
            ],
        },
    ]
    ok(http.post("/v1/apply", headers=ws.auth, json=documents))
    ok(http.post(f"/v1/journeys/{channel}-j/publish", headers=ws.auth))
    return event


def person(http: httpx.Client, ws: WorkspaceKeys, who: dict[str, str], **extra: Any) -> str:
    """Identify through the write key; the profile id once the identity stage made it."""
    ok(http.post("/v1/identify", auth=(ws.write_key, ""), json={**who, **extra}))
    (namespace, value), *_ = [
        (("user_id", who["userId"]) if "userId" in who else ("anonymous_id", who["anonymousId"]))
    ]

    def found() -> str | None:
        answer = http.get(
            "/v1/profiles", headers=ws.auth, params={"identity": f"{namespace}:{value}"}
        )
        return answer.json()["id"] if answer.status_code == 200 else None

    return eventually(found)


def track(http: httpx.Client, ws: WorkspaceKeys, who: dict[str, str], event: str) -> None:
    ok(http.post("/v1/track", auth=(ws.write_key, ""), json={**who, "event": event}))


def outcomes(http: httpx.Client, ws: WorkspaceKeys, pid: str, count: int) -> list[dict[str, Any]]:
    """The profile's first `count` message outcome events, oldest first (waits for them)."""

    def got() -> list[dict[str, Any]] | None:
        items = http.get(f"/v1/profiles/{pid}/events", headers=ws.auth).json()["items"]
        found = [e for e in reversed(items) if (e["event"] or "").startswith("message.")]
        return found if len(found) >= count else None

    return eventually(got)[:count]


def arrivals(
    server: VendorServer | H2Server, count: int, match: Callable[[Recorded], bool]
) -> list[Recorded]:
    return eventually(
        lambda: (hits := [r for r in server.requests if match(r)]) and len(hits) >= count and hits
    )


# --- Email (the delivery issue's channel, here from a journey) -------------------


class Inbox:
    """aiosmtpd's handler: what arrives goes into a queue the test reads."""

    def __init__(self) -> None:
        self.arrived: queue.Queue[tuple[list[str], bytes]] = queue.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.put((list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 Ok"


def test_email_from_a_journey_reaches_an_smtp_server(
    stack: Stack, http: httpx.Client, ws: WorkspaceKeys
) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        configure(http, ws, "email", "smtp", url=f"smtp://127.0.0.1:{port}")
        template = {"from": "Shop <shop@example.com>", "subject": "Hi {{ profile.first_name }}"}
        event = journey(http, ws, "email", {**template, "text": "Welcome!"})
        who = {"userId": f"mail-{ws.id}"}
        pid = person(http, ws, who, traits={"first_name": "Ella", "email": "ella@example.org"})
        track(http, ws, who, event)
        recipients, data = inbox.arrived.get(timeout=30)
    finally:
        controller.stop()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert recipients == ["ella@example.org"] and message["Subject"] == "Hi Ella"
    sent = outcomes(http, ws, pid, 1)[0]
    assert sent["event"] == "message.sent"
    assert message["Message-ID"] == f"<{sent['properties']['message_id']}@example.com>"


# --- SMS ---------------------------------------------------------------------


def test_sms_through_twilio_and_its_status_callback(
    stack: Stack, http: httpx.Client, ws: WorkspaceKeys
) -> None:
    twilio = {"account_sid": "AC" + ws.id[-8:], "auth_token": "tw-token", "from": "+15550001"}
    configure(http, ws, "sms", "twilio", api_url=stack.twilio.url, **twilio)
    event = journey(http, ws, "sms", {"body": "Hej {{ profile.first_name }}, 20% idag"})
    who = {"userId": f"sms-{ws.id}"}
    pid = person(http, ws, who, traits={"first_name": "Åsa", "phone": "+46 70 123 45 67"})
    track(http, ws, who, event)
    [request] = arrivals(stack.twilio, 1, lambda r: ws.id[-8:] in r.path)
    assert request.path == f"/2010-04-01/Accounts/AC{ws.id[-8:]}/Messages.json"
    form = request.form()
    assert (form["To"], form["From"], form["Body"]) == (
        "+46701234567",
        "+15550001",
        "Hej Åsa, 20% idag",
    )
    sent = outcomes(http, ws, pid, 1)[0]
    assert sent["event"] == "message.sent" and sent["properties"]["channel"] == "sms"
    # Twilio reports delivery to the callback URL it was given, signed with the auth token.
    callback = form["StatusCallback"]
    assert callback.startswith(stack.url)
    report = {
        "MessageSid": "SM1",
        "MessageStatus": "delivered",
        "To": form["To"],
        "From": form["From"],
    }
    headers = {"X-Twilio-Signature": twilio_signature("tw-token", callback, report.items())}
    assert httpx.post(callback, data=report).status_code == 401  # unsigned: refused
    assert httpx.post(callback, data=report, headers=headers).status_code == 200
    assert [e["event"] for e in outcomes(http, ws, pid, 2)] == ["message.sent", "message.delivered"]


# --- Push: FCM, APNs and Web Push behind one router ---------------------------


def test_push_reaches_android_ios_and_a_browser_and_drops_dead_tokens(
    stack: Stack, http: httpx.Client, ws: WorkspaceKeys
) -> None:
    _key, apns_pem = apns_key()
    vapid_private, vapid_public = generate_vapid_keys()
    configure(
        http,
        ws,
        "push",
        "push",
        fcm={
            "service_account": stack.fcm_vendor.service_account(stack.fcm.url),
            "api_url": stack.fcm.url,
        },
        apns={
            "team_id": "TEAM1",
            "key_id": "KEY1",
            "private_key": apns_pem,
            "topic": "com.shop.app",
            "sandbox": True,
        },
        webpush={"vapid_private_key": vapid_private, "subject": "mailto:ops@shop.example"},
    )
    event = journey(
        http, ws, "push", {"title": "Sale", "body": "Hi {{ profile.first_name }}", "deep_link": "shop://sale"}
    )  # fmt: skip
    ios_token = ws.id[-8:].encode().hex() * 4
    people = {
        "android": ({"userId": f"droid-{ws.id}"}, {"token": f"fcm-{ws.id}", "type": "android"}),
        "ios": ({"userId": f"ios-{ws.id}"}, {"token": ios_token, "type": "ios"}),
        "gone": ({"userId": f"gone-{ws.id}"}, {"token": "fcm-dead-token", "type": "android"}),
    }
    ids = {
        name: person(http, ws, who, traits={"first_name": name.title()}, context={"device": device})
        for name, (who, device) in people.items()
    }
    # A browser registers its subscription for an anonymous visitor (write key only).
    browser = Browser(f"{stack.push_service.url}/push/{ws.id}")
    visitor = {"anonymousId": f"visitor-{ws.id}"}
    registered = ok(
        http.post(
            "/v1/push/subscriptions",
            auth=(ws.write_key, ""),
            json={
                "profile": f"anonymous_id:{visitor['anonymousId']}",
                "subscription": browser.subscription(),
            },
        )
    )
    ids["browser"] = person(http, ws, visitor, traits={"first_name": "Browser"})

    def tokens(pid: str) -> list[str]:
        found = http.get(f"/v1/profiles/{pid}", headers=ws.auth).json()["identities"]
        return [i["value"] for i in found if i["namespace"] == "device_token"]

    eventually(lambda: tokens(ids["browser"]) == [registered["device_token"]])
    assert tokens(ids["android"]) == [f"fcm-{ws.id}"] and tokens(ids["ios"]) == [ios_token]
    for who, _device in people.values():
        track(http, ws, who, event)
    track(http, ws, visitor, event)

    [fcm_send] = arrivals(
        stack.fcm,
        1,
        lambda r: r.path.endswith(":send") and r.json()["message"]["token"] == f"fcm-{ws.id}",
    )
    message = fcm_send.json()["message"]
    assert message["notification"] == {"title": "Sale", "body": "Hi Android"}
    assert message["data"]["link"] == "shop://sale"
    [apple] = arrivals(stack.apns, 1, lambda r: r.path == f"/3/device/{ios_token}")
    assert (
        apple.headers["apns-topic"] == "com.shop.app" and apple.headers["apns-push-type"] == "alert"
    )
    assert apple.json()["aps"]["alert"] == {"title": "Sale", "body": "Hi Ios"}
    [web] = arrivals(stack.push_service, 1, lambda r: r.path == f"/push/{ws.id}")
    assert (
        vapid_claims(web, vapid_public, stack.push_service.url)["sub"] == "mailto:ops@shop.example"
    )
    decrypted = browser.decrypt(web)
    assert (decrypted["title"], decrypted["body"], decrypted["link"]) == (
        "Sale",
        "Hi Browser",
        "shop://sale",
    )

    for name in ("android", "ios", "browser"):
        assert outcomes(http, ws, ids[name], 1)[0]["event"] == "message.sent", name
    failed = outcomes(http, ws, ids["gone"], 1)[0]
    assert failed["event"] == "message.failed" and "token removed" in failed["properties"]["reason"]
    assert tokens(ids["gone"]) == []  # the vendor called it unregistered: gone from the profile


# --- Webhook -------------------------------------------------------------------


def test_webhook_is_posted_signed(stack: Stack, http: httpx.Client, ws: WorkspaceKeys) -> None:
    secret = new_secret()
    configure(http, ws, "webhook", "webhook", secret=secret)
    event = journey(
        http,
        ws,
        "webhook",
        {
            "url": stack.hooks.url + "/crm/{{ profile.user_id | default: 'x' }}",
            "body": '{"name": "{{ profile.first_name }}", "ws": "' + ws.id + '"}',
            "headers": {"X-Source": "clarion"},
        },
    )
    who = {"userId": f"hook-{ws.id}"}
    pid = person(http, ws, who, traits={"first_name": "Hugo", "user_id": "hugo"})
    track(http, ws, who, event)
    [request] = arrivals(stack.hooks, 1, lambda r: ws.id.encode() in r.body)
    assert request.path == "/crm/hugo" and request.headers["x-source"] == "clarion"
    payload = standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    assert payload == {"name": "Hugo", "ws": ws.id}
    sent = outcomes(http, ws, pid, 1)[0]
    assert sent["event"] == "message.sent"
    assert request.headers["webhook-id"] == sent["properties"]["message_id"]


# --- Direct mail (an action campaign) --------------------------------------------


def test_direct_mail_campaign_writes_csv_and_parquet(
    stack: Stack, http: httpx.Client, ws: WorkspaceKeys
) -> None:
    configure(http, ws, "direct_mail", "direct_mail", folder=str(stack.mail_folder / "out"))
    documents = [
        {
            "kind": "audience",
            "name": "mailing",
            "definition": {"trait": {"path": "catalogue", "op": "eq", "value": True}},
        },
        {
            "kind": "template",
            "name": "catalogue",
            "channel": "direct_mail",
            "fields": {"greeting": "Kära {{ profile.first_name }}", "code": "W-{{ profile.tier }}"},
        },
        {
            "kind": "campaign",
            "name": "winter-catalogue",
            "audience": "mailing",
            "template": "catalogue",
        },
    ]
    ok(http.post("/v1/apply", headers=ws.auth, json=documents))
    address = {
        "street": "Storgatan 1",
        "city": "Stockholm",
        "postal_code": "111 22",
        "country": "SE",
    }
    traits = {"name": "Ann Berg", "tier": "gold", "catalogue": True, "address": address}
    ann = person(http, ws, {"userId": f"ann-{ws.id}"}, traits={"first_name": "Ann", **traits})
    incomplete = {**address, "postal_code": ""}
    bo_traits = {"first_name": "Bo", "catalogue": True, "address": incomplete}
    bo = person(http, ws, {"userId": f"bo-{ws.id}"}, traits=bo_traits)
    ok(http.post("/v1/campaigns/winter-catalogue/activate", headers=ws.auth))

    def finished() -> dict[str, Any] | None:
        runs = http.get("/v1/campaigns/winter-catalogue/runs", headers=ws.auth).json()["items"]
        return runs[0] if runs and runs[0]["status"] == "completed" else None

    run = eventually(finished)
    assert run["counts"]["recipients"] == 2 and run["counts"]["sent"] == 1, run["counts"]
    skipped = outcomes(http, ws, bo, 1)[0]
    assert skipped["event"] == "message.skipped"
    assert skipped["properties"]["reason"] == "incomplete_address: missing postal_code"
    sent = outcomes(http, ws, ann, 1)[0]
    assert sent["event"] == "message.sent"

    with stack.app.state.services.db.read() as tx:
        [record] = tx.conn.execute(
            select(direct_mail_runs).where(direct_mail_runs.c.workspace_id == ws.id)
        ).mappings()
    assert record["rows"] == 1 and record["run"].startswith("campaign:")
    with open(record["csv_path"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = {
        "message_id": sent["properties"]["message_id"],
        "profile_id": ann,
        "name": "Ann Berg",
        "street": "Storgatan 1",
        "street2": "",
        "city": "Stockholm",
        "state": "",
        "postal_code": "111 22",
        "country": "SE",
        "greeting": "Kära Ann",
        "code": "W-gold",
    }
    assert rows == [expected]
    with duckdb.connect() as con:
        parquet = con.execute("SELECT * FROM read_parquet(?)", [record["parquet_path"]])
        columns = [d[0] for d in parquet.description]
        assert [dict(zip(columns, row, strict=True)) for row in parquet.fetchall()] == [
            {k: (v or None) if k in ("street2", "state") else v for k, v in expected.items()}
        ]


# --- Inbound surfaces: in-app, content cards, web, code-based --------------------

NAME = "{{ profile.first_name }}"
INBOUND = {
    "in_app": ({"html": f"<p>Hi {NAME}</p>"}, "in_app", {"html": "<p>Hi Iris</p>"}),
    "content_card": (
        {"title": f"Hi {NAME}", "body": "10% off", "priority": 3},
        "cards",
        {"title": "Hi Iris", "body": "10% off"},
    ),
    "web": (
        {"surface": "home-banner", "html": f"<b>{NAME}</b>"},
        "home-banner",
        {"html": "<b>Iris</b>"},
    ),
    "code": (
        {"surface": "checkout-offer", "json": {"discount": 10, "label": f"For {NAME}"}},
        "checkout-offer",
        {"json": {"discount": 10, "label": "For Iris"}},
    ),
}


@pytest.mark.parametrize("channel", sorted(INBOUND))
def test_inbound_channels_make_content_eligible_on_their_surface(
    stack: Stack, http: httpx.Client, ws: WorkspaceKeys, channel: str
) -> None:
    template, surface, content = INBOUND[channel]
    event = journey(http, ws, channel, template)
    user = f"iris-{channel}"
    who = {"userId": user}
    pid = person(http, ws, who, traits={"first_name": "Iris"})
    secret = ok(http.get("/v1/identity-secret", headers=ws.auth))["secret"]
    token = make_identity_token(secret, user, int(SystemClock().now().timestamp()) + 600)
    as_user = {"X-Clarion-Identity-Token": token}
    query = {"profile": f"user_id:{user}"}
    refused = http.get(f"/v1/surfaces/{surface}", params=query, auth=(ws.write_key, ""))
    assert refused.status_code == 401  # a user id without the identity token
    track(http, ws, who, event)

    def shown() -> list[dict[str, Any]]:
        answer = http.get(
            f"/v1/surfaces/{surface}", params=query, auth=(ws.write_key, ""), headers=as_user
        )
        return list(ok(answer)["items"])

    [item] = eventually(shown)
    assert item["content"] == content and item["channel"] == channel
    if channel == "code":  # a code-based experience is also an OFREP flag
        flag = ok(
            http.post(
                f"/ofrep/v1/evaluate/flags/{surface}",
                auth=(ws.write_key, ""),
                headers=as_user,
                json={"context": {"targetingKey": user}},
            )
        )
        assert flag["value"] == content["json"] and flag["variant"] == item["id"]
    ok(
        http.post(
            f"/v1/surfaces/cards/{item['id']}/read",
            params=query,
            auth=(ws.write_key, ""),
            headers=as_user,
        )
    )
    ok(
        http.post(
            f"/v1/surfaces/cards/{item['id']}/dismiss",
            params=query,
            auth=(ws.write_key, ""),
            headers=as_user,
        )
    )
    assert shown() == []
    names = [e["event"] for e in outcomes(http, ws, pid, 3)]
    assert names == ["message.sent", "message.opened", "message.dismissed"]
