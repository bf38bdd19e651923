"""The webhook provider: POST the rendered body to the rendered URL, Standard Webhooks signed.

Settings: `secret` (`whsec_` + base64, as Standard Webhooks and Svix write it).
Headers `webhook-id` (the message id: receivers deduplicate retries on it),
`webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`). Retries are the
dispatcher's: 429/5xx/timeouts come back transient.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import orjson

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.channels.http_result import from_response, guarded
from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.outbound import OutboundClient

_RESERVED = frozenset({"webhook-id", "webhook-timestamp", "webhook-signature", "host"})


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError as exc:
        raise InvalidInput(
            "settings.secret is whsec_ followed by base64", field="settings.secret"
        ) from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature header value."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookProvider:
    name = "webhook"
    channel = "webhook"

    def __init__(self, settings: Mapping[str, Any], client: OutboundClient, clock: Clock) -> None:
        secret = settings.get("secret")
        if not isinstance(secret, str) or not secret:
            raise InvalidInput(
                "the webhook provider needs settings.secret", field="settings.secret"
            )
        secret_bytes(secret)
        self.secret = secret
        self._client, self._clock = client, clock

    async def send(self, message: RenderedMessage) -> SendResult:
        return await guarded(lambda: self._send(message))

    async def _send(self, message: RenderedMessage) -> SendResult:
        fields = message.fields
        url = str(fields.get("url") or message.to)
        if not url.startswith(("https://", "http://")):
            return SendResult(SendStatus.PERMANENT, error=f"not an http(s) URL: {url[:100]}")
        raw = fields.get("body")
        body = (raw if isinstance(raw, str) else orjson.dumps(raw or {}).decode()).encode()
        timestamp = int(self._clock.now().timestamp())
        headers = {"content-type": _content_type(body)}
        extra = fields.get("headers")
        if isinstance(extra, dict):
            headers.update(
                {
                    str(k).lower(): str(v)
                    for k, v in extra.items()
                    if str(k).lower() not in _RESERVED
                }
            )
        headers.update(
            {
                "webhook-id": message.message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self.secret, message.message_id, timestamp, body),
            }
        )
        method = str(fields.get("method") or "POST").upper()
        response = await self._client.request(method, url, headers=headers, content=body)
        return from_response(response, message_id=message.message_id, now=self._clock.now())

    async def close(self) -> None:
        await self._client.aclose()


def _content_type(body: bytes) -> str:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return "text/plain; charset=utf-8"
    return "application/json"
