"""Web Push (RFC 8030) with aes128gcm payloads (RFC 8291) and VAPID (RFC 8292).

Settings: `vapid_private_key` (raw base64url, as `clarion vapid-keys` prints it,
or DER/PEM), `subject` (`mailto:` or https URL), optional `ttl` (seconds,
default a day). A profile's device token `webpush:<id>` names a stored
subscription (`POST /v1/push/subscriptions`); pywebpush encrypts, the outbound
client posts. `404`/`410` mean the subscription is gone: it is removed.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.channels.http_result import from_response, guarded
from clarion.channels.push_common import TokenRemover, keep_tokens
from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.outbound import OutboundClient

PREFIX = "webpush:"
Subscriptions = Callable[[str, str, str | None], dict[str, Any] | None]
"""(workspace id, subscription id, profile id) -> `{endpoint, p256dh, auth}` or None."""
_TOPIC = re.compile(r"[^A-Za-z0-9_-]")


def generate_vapid_keys() -> tuple[str, str]:
    """(private key as raw base64url, application server key as base64url)."""
    vapid = Vapid02()
    vapid.generate_keys()
    return vapid_pair(vapid)


def vapid_pair(vapid: Vapid02) -> tuple[str, str]:
    number = vapid.private_key.private_numbers().private_value
    private = _b64(number.to_bytes(32, "big"))
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private, _b64(public)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def push_payload(message: RenderedMessage) -> bytes:
    f = message.fields
    body: dict[str, Any] = {k: f[k] for k in ("title", "body", "image") if f.get(k)}
    if f.get("deep_link"):
        body["link"] = f["deep_link"]
    if isinstance(f.get("data"), dict):
        body["data"] = f["data"]
    body["message_id"] = message.message_id
    return orjson.dumps(body)


class WebPushProvider:
    name = "webpush"
    channel = "push"

    def __init__(
        self,
        settings: Mapping[str, Any],
        client: OutboundClient,
        clock: Clock,
        subscriptions: Subscriptions,
        remove_token: TokenRemover = keep_tokens,
    ) -> None:
        key, subject = settings.get("vapid_private_key"), settings.get("subject")
        if not isinstance(key, str) or not key:
            raise InvalidInput(
                "the webpush provider needs settings.vapid_private_key (clarion vapid-keys)",
                field="settings.vapid_private_key",
            )
        if not isinstance(subject, str) or not subject.startswith(("mailto:", "https://")):
            raise InvalidInput(
                "settings.subject is a mailto: or https: contact", field="settings.subject"
            )
        try:
            self.vapid = (
                Vapid02.from_pem(key.encode()) if "BEGIN" in key else Vapid02.from_string(key)
            )
        except Exception as exc:  # py_vapid raises several kinds for a bad key
            raise InvalidInput(
                f"settings.vapid_private_key is not a P-256 key: {exc}",
                field="settings.vapid_private_key",
            ) from exc
        self.subject = subject
        self.ttl = int(settings.get("ttl", 86_400))
        self._client, self._clock = client, clock
        self._subscriptions, self._remove = subscriptions, remove_token

    async def send(self, message: RenderedMessage) -> SendResult:
        return await guarded(lambda: self._send(message))

    async def _send(self, message: RenderedMessage) -> SendResult:
        if not message.to.startswith(PREFIX):
            return SendResult(SendStatus.PERMANENT, error="not a web push subscription token")
        found = await asyncio.to_thread(
            self._subscriptions,
            message.workspace_id,
            message.to.removeprefix(PREFIX),
            message.profile_id,
        )
        if found is None:
            return SendResult(SendStatus.PERMANENT, error="web push subscription not found")
        subscription = {
            "endpoint": found["endpoint"],
            "keys": {"p256dh": found["p256dh"], "auth": found["auth"]},
        }
        try:
            encoded = WebPusher(subscription).encode(push_payload(message), "aes128gcm")
        except (WebPushException, ValueError) as exc:
            return SendResult(SendStatus.PERMANENT, error=f"cannot encrypt for it: {exc}")
        endpoint = str(found["endpoint"])
        parts = urlsplit(endpoint)
        claims = {
            "sub": self.subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(self._clock.now().timestamp()) + 12 * 3600,
        }
        headers = {
            **self.vapid.sign(claims),
            "ttl": str(self.ttl),
            "content-encoding": "aes128gcm",
            "content-type": "application/octet-stream",
            "urgency": "high" if message.fields.get("priority") == "high" else "normal",
        }
        topic = _TOPIC.sub("", str(message.fields.get("collapse_id") or ""))[:32]
        if topic:
            headers["topic"] = topic
        response = await self._client.request(
            "POST", endpoint, headers=headers, content=encoded["body"]
        )
        if response.status_code in (404, 410):
            await self._remove(message.workspace_id, message.to)
            return SendResult(
                SendStatus.PERMANENT,
                error=f"web push {response.status_code}: subscription removed",
                details={"token_removed": True},
            )
        return from_response(
            response, message_id=response.headers.get("location"), now=self._clock.now()
        )

    async def close(self) -> None:
        await self._client.aclose()
