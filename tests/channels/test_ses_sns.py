"""Amazon SES feedback through an SNS HTTPS subscription, against a local stand-in for SNS.

A local HTTPS server plays `sns.eu-west-1.amazonaws.com`: it serves the signing
certificate (generated here) and answers the subscription confirmation. The
test reaches it by resolving that host name to the local server and trusting a
local CA, through the app's own outbound client (`services.extras["outbound"]`);
the host check that only `sns.<region>.amazonaws.com` may serve a certificate is
untouched. Messages are signed here as SNS documents it (SignatureVersion 1,
SHA1withRSA; 2, SHA256withRSA) over the documented fields.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.outbound import Outbound, OutboundFailed
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys, make_workspace, settings_for_tests
from tests.delivery.harness import apply, deliver, identify, outcome_events, send, status
from tests.outbound.server import LocalCa, Recorded, Reply, VendorServer

SNS_HOST = "sns.eu-west-1.amazonaws.com"
CERT_PATH = "/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
CERT_URL = f"https://{SNS_HOST}{CERT_PATH}"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-feedback"
NEWS = {
    "kind": "template",
    "name": "news",
    "channel": "email",
    "from": "News <news@example.com>",
    "subject": "News",
    "text": "Hello",
}


class Sns:
    """The signing key and certificate of the stand-in SNS, and its HTTPS server."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNS_HOST)])
        now = dt.datetime.now(dt.UTC)  # noqa: TID251 - the certificate's validity is real time
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )

    def handler(self, request: Recorded) -> Reply:
        if request.method == "GET" and request.path == CERT_PATH:
            return Reply(200, self.cert.public_bytes(serialization.Encoding.PEM))
        if request.method == "GET" and request.query.get("Action") == ["ConfirmSubscription"]:
            return Reply(200, b"<ConfirmSubscriptionResponse/>", {"Content-Type": "text/xml"})
        return Reply(404, b"")

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        """Sign as SNS does: `name\\nvalue\\n` for each documented field present, in order."""
        if message["Type"] == "Notification":
            names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn"]
            names.append("Type")
        text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
        digest = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(text.encode(), padding.PKCS1v15(), digest)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": message.get("SigningCertURL", CERT_URL),
        }


@pytest.fixture
def sns(tmp_path: Path) -> Iterator[tuple[Sns, VendorServer, LocalCa]]:
    ca, stand_in = LocalCa.create(), Sns()
    with VendorServer(stand_in.handler, tls=ca.server_context(SNS_HOST, tmp_path)) as server:
        yield stand_in, server, ca


@pytest.fixture
def app(
    sqlite_db: SqlDatabase, clock: FakeClock, sns: tuple[Sns, VendorServer, LocalCa]
) -> FastAPI:
    """The app, its outbound client resolving SNS's host to the local stand-in."""
    _stand_in, server, ca = sns
    app = create_app(settings_for_tests(outbound_allow="127.0.0.1"), db=sqlite_db, clock=clock)
    outbound = app.state.services.extras["outbound"]
    assert isinstance(outbound, Outbound)

    async def resolve(host: str, port: int) -> list[tuple[str, int]]:
        if (host, port) == (SNS_HOST, 443):
            return [("127.0.0.1", server.port)]
        raise OutboundFailed(f"cannot resolve {host}")  # as DNS would answer: no such host

    outbound.resolver = resolve
    outbound.verify = ca.client_context()
    return app


@pytest.fixture
def ws(app: FastAPI) -> WorkspaceKeys:
    return make_workspace(app)


def post_sns(client: TestClient, ws: WorkspaceKeys, message: Any, *, auth: bool = True) -> Any:
    """What SNS sends: the JSON document as text/plain, Basic auth from the endpoint URL."""
    body = message if isinstance(message, bytes) else orjson.dumps(message)
    return client.post(
        "/v1/webhooks/ses",
        content=body,
        headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "x"},
        auth=(ws.secret_key, "") if auth else None,
    )


def ses_event(kind: str, message_id: str | None, recipients: list[str], **details: Any) -> str:
    mail = {
        "timestamp": "2026-01-05T09:00:00.000Z",
        "source": "news@example.com",
        "messageId": "0102018d-ses-id",
        "destination": recipients,
        "headers": [{"name": "Message-ID", "value": f"<{message_id}@example.com>"}]
        if message_id
        else [],
        "commonHeaders": {"messageId": f"<{message_id}@example.com>"} if message_id else {},
    }
    event: dict[str, Any] = {"notificationType": kind, "mail": mail}
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": details.get("bounce_type", "Permanent"),
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": r, "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
                for r in recipients
            ],
        }
    elif kind == "Complaint":
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "complaintFeedbackType": "abuse",
        }
    else:
        event["delivery"] = {"recipients": recipients, "smtpResponse": "250 ok"}
    return orjson.dumps(event).decode()


def notification(sns: Sns, message: str, n: int = 1, version: str = "1") -> dict[str, Any]:
    return sns.sign(
        {
            "Type": "Notification",
            "MessageId": f"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf32{n}",
            "TopicArn": TOPIC,
            "Message": message,
            "Timestamp": "2026-01-05T09:00:00.000Z",
            "UnsubscribeURL": f"https://{SNS_HOST}/?Action=Unsubscribe",
        },
        version,
    )


def suppressed(client: TestClient, ws: WorkspaceKeys) -> list[str]:
    items = client.get("/v1/suppressions", headers=ws.auth).json()["items"]
    return sorted(s["address"] for s in items)


def test_the_subscription_confirmation_is_verified_and_confirmed(
    client: TestClient, ws: WorkspaceKeys, sns: tuple[Sns, VendorServer, LocalCa]
) -> None:
    stand_in, server, _ca = sns
    subscribe = f"https://{SNS_HOST}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336"
    confirmation = stand_in.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic. To confirm, visit SubscribeURL.",
            "SubscribeURL": subscribe,
            "Timestamp": "2026-01-05T09:00:00.000Z",
        }
    )
    answer = post_sns(client, ws, confirmation)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"confirmed": True}
    fetched = [(r.method, r.path, r.query.get("Action")) for r in server.requests]
    assert fetched == [("GET", CERT_PATH, None), ("GET", "/", ["ConfirmSubscription"])]
    assert server.requests[1].query["Token"] == ["2336"]


def test_a_hard_bounce_suppresses_the_address_and_stops_marketing_email(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, sns: tuple[Sns, VendorServer, LocalCa]
) -> None:
    stand_in, server, _ca = sns
    apply(client, ws, NEWS)
    pid = identify(client, ws, "ann", email="ann@example.com")
    first = send(client, ws, channel="email", template="news", profile_id=pid)
    assert deliver(app).sent == 1
    bounce = notification(stand_in, ses_event("Bounce", first, ["ann@example.com"]), version="2")
    answer = post_sns(client, ws, bounce)
    assert answer.status_code == 200, answer.text
    assert answer.json()["recorded"] == [
        {"message_id": first, "recorded": "message.bounced", "suppressed": True}
    ]
    assert suppressed(client, ws) == ["ann@example.com"]
    bounced = outcome_events(client, ws, pid)[-1]
    assert bounced["event"] == "message.bounced"
    assert bounced["properties"]["bounce_type"] == "hard"
    assert bounced["properties"]["provider"] == "ses"
    # The next marketing email to that address is not sent.
    second = send(client, ws, channel="email", template="news", profile_id=pid)
    assert deliver(app).skipped == 1
    assert status(client, ws, second)["status"] == "skipped"
    assert [r.path for r in server.requests] == [CERT_PATH]  # the certificate is fetched once
    # A delivery of another message is an outcome, and suppresses nothing.
    bo = identify(client, ws, "bo", email="bo@example.com")
    third = send(client, ws, channel="email", template="news", profile_id=bo)
    deliver(app)
    delivery = notification(stand_in, ses_event("Delivery", third, ["bo@example.com"]), 2)
    assert post_sns(client, ws, delivery).json()["recorded"][0]["recorded"] == "message.delivered"
    assert suppressed(client, ws) == ["ann@example.com"]


def test_complaints_suppress_and_soft_bounces_do_not(
    client: TestClient, ws: WorkspaceKeys, sns: tuple[Sns, VendorServer, LocalCa]
) -> None:
    stand_in, _server, _ca = sns
    soft = ses_event("Bounce", None, ["full@example.com"], bounce_type="Transient")
    assert post_sns(client, ws, notification(stand_in, soft, 1)).status_code == 200
    complaint = ses_event("Complaint", None, ["angry@example.com"])
    assert post_sns(client, ws, notification(stand_in, complaint, 2)).status_code == 200
    assert suppressed(client, ws) == ["angry@example.com"]


def test_unsigned_forged_or_foreign_messages_change_nothing(
    client: TestClient, ws: WorkspaceKeys, sns: tuple[Sns, VendorServer, LocalCa]
) -> None:
    stand_in, server, _ca = sns
    good = notification(stand_in, ses_event("Bounce", None, ["x@example.com"]))
    unsigned = {k: v for k, v in good.items() if k != "Signature"}
    forged = {**good, "Message": ses_event("Bounce", None, ["victim@example.com"])}
    other_key = Sns().sign({k: v for k, v in good.items() if k != "Signature"})
    refused = {
        "unsigned": unsigned,
        "forged": forged,
        "signed by another key": other_key,
        "bad base64": {**good, "Signature": "%%%"},
        "unknown version": {**good, "SignatureVersion": "3"},
        "not SNS": {"hello": "world"},
    }
    for name, message in refused.items():
        assert post_sns(client, ws, message).status_code in (400, 401), name
    # Certificates come only from https://sns.<region>.amazonaws.com/...pem: nothing is fetched.
    for url in (
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
    ):
        before = len(server.requests)
        answer = post_sns(client, ws, stand_in.sign({**unsigned, "SigningCertURL": url}))
        assert answer.status_code == 401, url
        assert len(server.requests) == before, url
    # A certificate host that cannot be reached now: 503, so that SNS tries again later.
    elsewhere = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem"
    assert (
        post_sns(client, ws, stand_in.sign({**unsigned, "SigningCertURL": elsewhere})).status_code
        == 503
    )
    assert post_sns(client, ws, b"{not json").status_code == 400
    assert post_sns(client, ws, good, auth=False).status_code == 401
    assert suppressed(client, ws) == []
    # The genuine message still works, and a workspace can pin its topics.
    assert post_sns(client, ws, good).status_code == 200
    assert suppressed(client, ws) == ["x@example.com"]
    pinned = {"settings": {"ses": {"topic_arns": ["arn:aws:sns:eu-west-1:1:other"]}}}
    assert client.put("/v1/workspace/settings", headers=ws.auth, json=pinned).status_code == 200
    assert post_sns(client, ws, good).status_code == 403
