"""Stand-ins for vendors and browsers, shared by the channel tests.

Each vendor answers as its documentation says; the tests check what arrived.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.outbound.server import Recorded, Reply


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Twilio:
    """The Messages API: 201 with a SID (or the error answer scripted per number)."""

    def __init__(self, errors: dict[str, Reply] | None = None) -> None:
        self.errors = errors or {}
        self._sids = itertools.count(1)

    def __call__(self, request: Recorded) -> Reply:
        to = request.form().get("To", "")
        if to in self.errors:
            return self.errors[to]
        return Reply(201, {"sid": f"SM{next(self._sids):032d}", "status": "queued", "to": to})


@dataclass
class Fcm:
    """Google's token endpoint and FCM v1 `messages:send`; dead tokens answer UNREGISTERED."""

    dead: set[str] = field(default_factory=set)
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def service_account(self, url: str) -> dict[str, Any]:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "shop-app",
            "client_email": "clarion@shop-app.iam.gserviceaccount.com",
            "private_key_id": "kid1",
            "private_key": pem,
            "token_uri": f"{url}/token",
        }

    def __call__(self, request: Recorded) -> Reply:
        if request.path == "/token":
            grant = request.form()
            claims = jwt.decode(
                grant["assertion"],
                self.key.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False},
            )
            assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
            return Reply(200, {"access_token": "ya29.local", "expires_in": 3599})
        if request.headers.get("authorization") != "Bearer ya29.local":
            return Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        token = request.json()["message"]["token"]
        if token in self.dead:
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
        return Reply(200, {"name": f"projects/shop-app/messages/{len(token)}"})


class Browser:
    """A browser's push subscription: its keys, and decryption of what the push service got."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"browser-auth-16b"

    def subscription(self) -> dict[str, Any]:
        """`PushSubscription.toJSON()`."""
        p256dh = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(p256dh), "auth": b64url(self.auth)},
        }

    def decrypt(self, request: Recorded) -> Any:
        assert request.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            request.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return orjson.loads(plain)


def vapid_claims(request: Recorded, public_key: str, audience: str) -> dict[str, Any]:
    """The VAPID JWT of a push request, verified with the application server's public key."""
    scheme, _, params = request.headers["authorization"].partition(" ")
    values = dict(p.strip().split("=", 1) for p in params.split(","))
    assert scheme == "vapid" and values["k"] == public_key
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    return dict(jwt.decode(values["t"], key, algorithms=["ES256"], audience=audience))
