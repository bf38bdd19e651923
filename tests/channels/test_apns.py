"""APNs against a local HTTP/2-only TLS server standing in for api.sandbox.push.apple.com.

The outbound client resolves Apple's host name to the local server (the test's
resolver) and trusts a local CA; nothing else about the client is changed. The
server checks what Apple documents: HTTP/2, `POST /3/device/<token>`, a provider
token (ES256 JWT, `kid` header, `iss` team id, `iat`), `apns-topic`,
`apns-push-type`, `apns-priority`, `apns-id`, `apns-collapse-id`, and the JSON
payload with its `aps` dictionary.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from clarion.channels.apns import ApnsProvider
from clarion.channels.base import RenderedMessage, SendStatus
from clarion.outbound import OutboundClient, OutboundPolicy
from clarion.testing import FakeClock
from tests.outbound.h2server import H2Server
from tests.outbound.server import LocalCa, Recorded, Reply

HOST = "api.sandbox.push.apple.com"
TOKEN = "a1" * 32
LOCAL = OutboundPolicy.allowing("127.0.0.1", timeout=5)


def apns_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


class Apple:
    """Answers like APNs: 200 with apns-id, or an error reason per token."""

    def __init__(self, errors: dict[str, tuple[int, str, dict[str, str]]] | None = None) -> None:
        self.errors = errors or {}

    def __call__(self, request: Recorded) -> Reply:
        token = request.path.rsplit("/", 1)[-1]
        if token in self.errors:
            status, reason, headers = self.errors[token]
            return Reply(status, {"reason": reason}, headers)
        return Reply(200, b"", {"apns-id": request.headers["apns-id"]})


@pytest.fixture
def ca() -> LocalCa:
    return LocalCa.create()


@pytest.fixture
def apple_server(ca: LocalCa, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[H2Server]:
    handler = getattr(request, "param", None) or Apple()
    with H2Server(handler, ca.server_context(HOST, tmp_path)) as server:
        yield server


def provider(server: H2Server, ca: LocalCa, clock: FakeClock, **extra: Any) -> ApnsProvider:
    async def resolve(host: str, port: int) -> list[tuple[str, int]]:
        assert (host, port) == (HOST, 443)  # the provider calls Apple's own host
        return [("127.0.0.1", server.port)]

    client = OutboundClient(
        LOCAL, http1=False, http2=True, resolver=resolve, verify=ca.client_context()
    )
    settings = {
        "team_id": "TEAM123456",
        "key_id": "KEY7654321",
        "private_key": extra.pop("pem"),
        "topic": "com.shop.app",
        "sandbox": True,
        **extra,
    }
    removed: list[str] = extra.get("removed", [])

    async def remove(_workspace: str, token: str) -> None:
        removed.append(token)

    return ApnsProvider(settings, client, clock, remove)


def push(to: str = TOKEN, **fields: Any) -> RenderedMessage:
    return RenderedMessage(
        message_id="msg_" + uuid.uuid4().hex,
        workspace_id="ws_1",
        channel="push",
        to=to,
        fields={"title": "Sale", "body": "20% off", **fields},
        profile_id="p_1",
    )


def run(apns: ApnsProvider, *steps: Any) -> list[Any]:
    """Each step is a message to send or a callable run between sends (on one event loop)."""

    async def go() -> list[Any]:
        results = []
        try:
            for step in steps:
                if isinstance(step, RenderedMessage):
                    results.append(await apns.send(step))
                else:
                    step()
        finally:
            await apns.close()
        return results

    return asyncio.run(go())


def test_an_alert_goes_over_http2_with_a_provider_token(
    apple_server: H2Server, ca: LocalCa, clock: FakeClock
) -> None:
    key, pem = apns_key()
    apns = provider(apple_server, ca, clock, pem=pem)
    first = push(collapse_id="sale-42", badge=3, sound="default", deep_link="shop://sale")
    second = push()
    results = run(apns, first, second, lambda: clock.advance(minutes=41), push())
    assert [r.status for r in results] == [SendStatus.SENT] * 3
    assert apple_server.alpn == ["h2"]  # one connection, HTTP/2 negotiated by ALPN
    one, two, three = apple_server.requests
    assert one.method == "POST" and one.path == f"/3/device/{TOKEN}"
    assert one.headers["apns-topic"] == "com.shop.app"
    assert one.headers["apns-push-type"] == "alert" and one.headers["apns-priority"] == "10"
    assert one.headers["apns-collapse-id"] == "sale-42"
    assert "apns-collapse-id" not in two.headers
    assert uuid.UUID(one.headers["apns-id"]).hex == first.message_id.removeprefix("msg_")
    assert results[0].provider_message_id == one.headers["apns-id"]
    scheme, _, token = one.headers["authorization"].partition(" ")
    assert scheme == "bearer"
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY7654321", "typ": "JWT"}
    claims = jwt.decode(token, key.public_key(), algorithms=["ES256"])
    assert claims == {"iss": "TEAM123456", "iat": int(clock.now().timestamp()) - 41 * 60}
    # One provider token for 40 minutes (Apple refuses more than one renewal per 20).
    assert two.headers["authorization"] == one.headers["authorization"]
    assert three.headers["authorization"] != one.headers["authorization"]
    assert one.json() == {
        "aps": {"alert": {"title": "Sale", "body": "20% off"}, "badge": 3, "sound": "default"},
        "message_id": first.message_id,
        "link": "shop://sale",
    }


DEAD = "de" * 32
WRONG_TOPIC = "df" * 32
BUSY = "b0" * 32
DOWN = "d0" * 32
EXPIRED = "e0" * 32


@pytest.mark.parametrize(
    "apple_server",
    [
        Apple(
            {
                DEAD: (410, "Unregistered", {}),
                WRONG_TOPIC: (400, "DeviceTokenNotForTopic", {}),
                BUSY: (429, "TooManyRequests", {"retry-after": "30"}),
                DOWN: (503, "ServiceUnavailable", {}),
                EXPIRED: (403, "ExpiredProviderToken", {}),
                "0" * 64: (400, "PayloadEmpty", {}),
            }
        )
    ],
    indirect=True,
)
def test_vendor_errors_remove_dead_tokens_retry_or_fail(
    apple_server: H2Server, ca: LocalCa, clock: FakeClock
) -> None:
    removed: list[str] = []
    _key, pem = apns_key()
    apns = provider(apple_server, ca, clock, pem=pem, removed=removed)
    dead, wrong, busy, down, expired, bad, fine = run(
        apns,
        push(DEAD),
        push(WRONG_TOPIC),
        push(BUSY),
        push(DOWN),
        push(EXPIRED),
        push("0" * 64),
        push(),
    )
    assert removed == [DEAD, WRONG_TOPIC]
    assert dead.status is SendStatus.PERMANENT and dead.details == {"token_removed": True}
    assert wrong.status is SendStatus.PERMANENT
    assert busy.status is SendStatus.TRANSIENT and busy.retry_after_seconds == 30
    assert down.status is SendStatus.TRANSIENT
    assert expired.status is SendStatus.TRANSIENT
    assert bad.status is SendStatus.PERMANENT and "PayloadEmpty" in (bad.error or "")
    assert fine.status is SendStatus.SENT
    # After ExpiredProviderToken the next request carries a new provider token.
    tokens = [r.headers["authorization"] for r in apple_server.requests]
    assert tokens[5] != tokens[4] and len(set(tokens[:5])) == 1


def test_a_payload_over_4kb_is_refused_without_a_call(
    apple_server: H2Server, ca: LocalCa, clock: FakeClock
) -> None:
    _key, pem = apns_key()
    [result] = run(provider(apple_server, ca, clock, pem=pem), push(body="x" * 5000))
    assert result.status is SendStatus.PERMANENT and apple_server.requests == []


def test_settings_are_checked_when_configured(clock: FakeClock) -> None:
    from clarion.model.errors import InvalidInput

    base = {"team_id": "T", "key_id": "K", "topic": "com.shop.app"}
    with pytest.raises(InvalidInput, match="private_key"):
        ApnsProvider({**base, "private_key": "not a key"}, OutboundClient(LOCAL), clock)
    with pytest.raises(InvalidInput, match="topic"):
        ApnsProvider(
            {**base, "topic": "", "private_key": apns_key()[1]}, OutboundClient(LOCAL), clock
        )
