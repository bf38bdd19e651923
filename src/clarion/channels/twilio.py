"""Twilio Programmable Messaging: sending SMS and checking Twilio's webhook signatures.

Settings: `account_sid`, `auth_token`, `from` or `messaging_service_sid`,
optional `api_url` (default https://api.twilio.com) and `replies` (keyword
answers). Each message asks Twilio to report its status to
`{public_url}/v1/webhooks/twilio/status?workspace=...&message=...`, a URL that
Twilio signs with the auth token (`X-Twilio-Signature`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.channels.http_result import from_response, guarded
from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.outbound import OutboundClient

DEFAULT_API = "https://api.twilio.com"
PERMANENT_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 21606})
"""Invalid or unreachable numbers, an opted-out recipient: never worth a retry."""


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(auth token, URL + each POST parameter as key+value, sorted))."""
    data = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    if not signature or not auth_token:
        return False
    expected = twilio_signature(auth_token, url, list(params))
    return hmac.compare_digest(expected.encode(), signature.encode())


def _setting(settings: Mapping[str, Any], name: str) -> str:
    value = settings.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"the twilio provider needs settings.{name}", field=f"settings.{name}")
    return value


def status_callback_url(public_url: str, workspace_id: str, message_id: str) -> str:
    query = urlencode({"workspace": workspace_id, "message": message_id})
    return f"{public_url.rstrip('/')}/v1/webhooks/twilio/status?{query}"


class TwilioSms:
    """Sends SMS through Twilio's Messages API (form-encoded, Basic auth)."""

    name = "twilio"
    channel = "sms"

    def __init__(
        self, settings: Mapping[str, Any], client: OutboundClient, public_url: str, clock: Clock
    ) -> None:
        self.account_sid = _setting(settings, "account_sid")
        self.auth_token = _setting(settings, "auth_token")
        self.sender = settings.get("from")
        self.service = settings.get("messaging_service_sid")
        if not self.sender and not self.service:
            raise InvalidInput(
                "the twilio provider needs settings.from or settings.messaging_service_sid",
                field="settings.from",
            )
        self.api_url = str(settings.get("api_url") or DEFAULT_API).rstrip("/")
        self._client, self._public_url, self._clock = client, public_url, clock

    async def send(self, message: RenderedMessage) -> SendResult:
        return await guarded(lambda: self._send(message))

    async def _send(self, message: RenderedMessage) -> SendResult:
        form = {
            "To": message.to,
            "Body": str(message.fields.get("body", "")),
            "StatusCallback": status_callback_url(
                self._public_url, message.workspace_id, message.message_id
            ),
        }
        if self.service:
            form["MessagingServiceSid"] = str(self.service)
        else:
            form["From"] = str(self.sender)
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = await self._client.request(
            "POST", url, data=form, auth=(self.account_sid, self.auth_token)
        )
        answer = _json(response.content)
        code = answer.get("code")
        if response.status_code == 400 and code in PERMANENT_CODES:
            return SendResult(SendStatus.PERMANENT, error=f"twilio {code}: {answer.get('message')}")
        sid = answer.get("sid") if isinstance(answer.get("sid"), str) else None
        return from_response(response, message_id=sid, now=self._clock.now())

    async def close(self) -> None:
        await self._client.aclose()


def _json(content: bytes) -> dict[str, Any]:
    import orjson

    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
