"""Providers against local servers that check what each vendor documents."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import http_ece
import jwt
import orjson
import pytest
import standardwebhooks
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from clarion.channels.base import RenderedMessage, SendStatus
from clarion.channels.fcm import FcmProvider
from clarion.channels.twilio import TwilioSms, twilio_signature
from clarion.channels.webhook import WebhookProvider, new_secret
from clarion.channels.webpush import WebPushProvider, generate_vapid_keys
from clarion.clock import SystemClock
from clarion.outbound import OutboundClient, OutboundPolicy
from clarion.testing import FakeClock
from tests.outbound.server import Recorded, Reply, VendorServer

LOCAL = OutboundPolicy.allowing("127.0.0.1", timeout=2)


def client() -> OutboundClient:
    return OutboundClient(LOCAL)


def message(channel: str, to: str, **fields: Any) -> RenderedMessage:
    return RenderedMessage(
        message_id="msg_0123456789abcdef0123456789abcdef",
        workspace_id="ws_1",
        channel=channel,
        to=to,
        fields=fields,
        profile_id="p_1",
    )


def sends(provider: Any, *messages: RenderedMessage) -> list[Any]:
    """Send each message in turn on one event loop, then close the provider's client."""

    async def go() -> list[Any]:
        try:
            return [await provider.send(m) for m in messages]
        finally:
            await provider.close()

    return asyncio.run(go())


def send_one(provider: Any, m: RenderedMessage) -> Any:
    return sends(provider, m)[0]


# --- Twilio ------------------------------------------------------------------


def test_twilio_signature_matches_twilio_published_vectors() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio_signature("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def twilio(server: VendorServer) -> TwilioSms:
    settings = {
        "account_sid": "AC1",
        "auth_token": "tok",
        "from": "+15550001",
        "api_url": server.url,
    }
    return TwilioSms(settings, client(), "https://clarion.example", FakeClock())


def test_twilio_send_is_the_messages_api_form_with_basic_auth() -> None:
    with VendorServer(lambda r: Reply(201, {"sid": "SM123", "status": "queued"})) as server:
        provider = twilio(server)
        result = send_one(provider, message("sms", "+46701112233", body="Hej Ann"))
        assert result.status is SendStatus.SENT and result.provider_message_id == "SM123"
        [request] = server.requests
        assert request.method == "POST"
        assert request.path == "/2010-04-01/Accounts/AC1/Messages.json"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC1:tok").decode()
        form = request.form()
        assert form["To"] == "+46701112233" and form["From"] == "+15550001"
        assert form["Body"] == "Hej Ann"
        assert form["StatusCallback"] == (
            "https://clarion.example/v1/webhooks/twilio/status?workspace=ws_1"
            "&message=msg_0123456789abcdef0123456789abcdef"
        )


@pytest.mark.parametrize(
    ("reply", "status", "wait"),
    [
        (Reply(429, {"code": 20429}, {"Retry-After": "7"}), SendStatus.TRANSIENT, 7.0),
        (Reply(503, {"message": "down"}), SendStatus.TRANSIENT, None),
        (Reply(400, {"code": 21211, "message": "invalid To"}), SendStatus.PERMANENT, None),
        (Reply(401, {"code": 20003}), SendStatus.PERMANENT, None),
    ],
)
def test_twilio_failures_map_to_retry_or_failure(
    reply: Reply, status: SendStatus, wait: float | None
) -> None:
    with VendorServer(lambda r: reply) as server:
        result = send_one(twilio(server), message("sms", "+4670", body="x"))
        assert result.status is status and result.retry_after_seconds == wait


def test_a_vendor_timeout_is_transient() -> None:
    release = threading.Event()
    with VendorServer(lambda r: Reply(201, {"sid": "x"}, wait=release)) as server:
        settings = {"account_sid": "AC1", "auth_token": "t", "from": "+1", "api_url": server.url}
        slow = OutboundClient(OutboundPolicy.allowing("127.0.0.1", timeout=0.2))
        provider = TwilioSms(settings, slow, "https://c.example", FakeClock())
        try:
            result = send_one(provider, message("sms", "+4670", body="x"))
        finally:
            release.set()
        assert result.status is SendStatus.TRANSIENT and "Timeout" in (result.error or "")


# --- Webhook -----------------------------------------------------------------


def test_webhook_is_signed_as_standard_webhooks_verify_it() -> None:
    secret = new_secret()
    with VendorServer(lambda r: Reply(204, b"")) as server:
        # The receiver checks the timestamp against its own (real) clock.
        provider = WebhookProvider({"secret": secret}, client(), SystemClock())
        sent = message(
            "webhook",
            server.url,
            url=f"{server.url}/hooks/order",
            body='{"order": 42}',
            headers={"X-Shop": "se", "webhook-id": "forged"},
        )
        assert send_one(provider, sent).status is SendStatus.SENT
        [request] = server.requests
        assert request.path == "/hooks/order" and request.headers["x-shop"] == "se"
        assert request.headers["webhook-id"] == sent.message_id
        verified = standardwebhooks.Webhook(secret).verify(request.body, request.headers)
        assert verified == {"order": 42}
        tampered = dict(request.headers, **{"webhook-timestamp": "1"})
        with pytest.raises(standardwebhooks.WebhookVerificationError):
            standardwebhooks.Webhook(secret).verify(request.body, tampered)


def test_webhook_retries_on_5xx_and_honours_retry_after() -> None:
    with VendorServer(lambda r: Reply(503, b"", {"Retry-After": "30"})) as server:
        provider = WebhookProvider({"secret": new_secret()}, client(), FakeClock())
        result = send_one(provider, message("webhook", server.url, url=server.url, body="{}"))
        assert result.status is SendStatus.TRANSIENT and result.retry_after_seconds == 30


# --- FCM ---------------------------------------------------------------------


def service_account(server: VendorServer) -> tuple[dict[str, Any], rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "shop-app",
        "client_email": "clarion@shop-app.iam.gserviceaccount.com",
        "private_key_id": "kid1",
        "private_key": pem,
        "token_uri": f"{server.url}/token",
    }
    return account, key


def fcm_vendor(dead: set[str]) -> Any:
    def handler(request: Recorded) -> Reply:
        if request.path == "/token":
            return Reply(200, {"access_token": "ya29.token", "expires_in": 3599})
        token = request.json()["message"]["token"]
        if token in dead:
            error = {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                        "errorCode": "UNREGISTERED",
                    }
                ],
            }
            return Reply(404, {"error": error})
        return Reply(200, {"name": "projects/shop-app/messages/0:1"})

    return handler


def test_fcm_gets_an_oauth_token_once_and_sends_v1_messages() -> None:
    removed: list[tuple[str, str]] = []

    async def remove(workspace_id: str, token: str) -> None:
        removed.append((workspace_id, token))

    with VendorServer(fcm_vendor({"dead-token"})) as server:
        account, key = service_account(server)
        settings = {"service_account": account, "api_url": server.url}
        provider = FcmProvider(settings, client(), FakeClock(), remove)
        push = message(
            "push",
            "tok-1",
            title="Hi",
            body="Cart",
            deep_link="shop://cart",
            data={"cart": 9},
            collapse_id="cart",
        )

        first, second, gone = sends(provider, push, push, message("push", "dead-token", body="x"))
        assert first.status is SendStatus.SENT and second.status is SendStatus.SENT
        token_requests = [r for r in server.requests if r.path == "/token"]
        assert len(token_requests) == 1  # reused
        grant = token_requests[0].form()
        assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        claims = jwt.decode(
            grant["assertion"],
            key.public_key(),
            algorithms=["RS256"],
            audience=f"{server.url}/token",
            options={"verify_exp": False},
        )
        assert claims["iss"] == account["client_email"]
        assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
        send = server.requests[1]
        assert send.path == "/v1/projects/shop-app/messages:send"
        assert send.headers["authorization"] == "Bearer ya29.token"
        body = send.json()["message"]
        assert body["token"] == "tok-1"
        assert body["notification"] == {"title": "Hi", "body": "Cart"}
        assert body["data"]["cart"] == "9" and body["data"]["link"] == "shop://cart"
        assert body["android"]["collapse_key"] == "cart"
        assert body["apns"]["headers"]["apns-collapse-id"] == "cart"

        assert gone.status is SendStatus.PERMANENT and gone.details == {"token_removed": True}
        assert removed == [("ws_1", "dead-token")]


def test_fcm_quota_and_unavailable_are_retried() -> None:
    def handler(request: Recorded) -> Reply:
        if request.path == "/token":
            return Reply(200, {"access_token": "t", "expires_in": 3600})
        error = {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"errorCode": "QUOTA_EXCEEDED"}],
        }
        return Reply(429, {"error": error}, {"Retry-After": "12"})

    with VendorServer(handler) as server:
        account, _key = service_account(server)
        provider = FcmProvider(
            {"service_account": account, "api_url": server.url}, client(), FakeClock()
        )
        result = send_one(provider, message("push", "tok", body="x"))
        assert result.status is SendStatus.TRANSIENT and result.retry_after_seconds == 12


# --- Web Push ----------------------------------------------------------------


def test_web_push_is_vapid_signed_and_decrypts_for_the_browser() -> None:
    browser = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    p256dh = browser.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    b64 = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")  # noqa: E731
    private, public = generate_vapid_keys()
    removed: list[str] = []

    async def remove(_ws: str, token: str) -> None:
        removed.append(token)

    with VendorServer(lambda r: Reply(201 if r.path == "/push/ok" else 410, b"")) as server:
        subs = {
            "ok": {"endpoint": f"{server.url}/push/ok", "p256dh": b64(p256dh), "auth": b64(auth)},
            "gone": {
                "endpoint": f"{server.url}/push/gone",
                "p256dh": b64(p256dh),
                "auth": b64(auth),
            },
        }
        settings = {"vapid_private_key": private, "subject": "mailto:ops@shop.example"}
        provider = WebPushProvider(
            settings, client(), FakeClock(), lambda ws, sid, pid: subs.get(sid), remove
        )
        sent, gone = sends(
            provider,
            message("push", "webpush:ok", title="Hi", body="Sale", collapse_id="sale!"),
            message("push", "webpush:gone", body="x"),
        )
        assert sent.status is SendStatus.SENT
        request = server.requests[0]
        assert request.headers["content-encoding"] == "aes128gcm"
        assert request.headers["ttl"] == "86400" and request.headers["topic"] == "sale"
        scheme, _, params = request.headers["authorization"].partition(" ")
        values = dict(p.split("=", 1) for p in params.split(","))
        assert scheme == "vapid" and values["k"] == public
        raw = base64.urlsafe_b64decode(public + "=" * (-len(public) % 4))
        vapid_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        claims = jwt.decode(
            values["t"],
            vapid_key,
            algorithms=["ES256"],
            audience=server.url,
            options={"verify_exp": False},
        )
        assert claims["sub"] == "mailto:ops@shop.example"
        plain = http_ece.decrypt(
            request.body, private_key=browser, auth_secret=auth, version="aes128gcm"
        )
        assert orjson.loads(plain) == {
            "title": "Hi",
            "body": "Sale",
            "message_id": sent.provider_message_id or "msg_0123456789abcdef0123456789abcdef",
        }
        assert gone.status is SendStatus.PERMANENT and removed == ["webpush:gone"]
