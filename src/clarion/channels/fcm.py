"""Firebase Cloud Messaging, HTTP v1: one `messages:send` per token.

Settings: `service_account` (the JSON key file's object: `project_id`,
`client_email`, `private_key`, `private_key_id`, `token_uri`), optional
`api_url` (default https://fcm.googleapis.com). The OAuth 2.0 access token
comes from the service account's signed JWT (RFC 7523 bearer grant, scope
`firebase.messaging`) and is reused until shortly before it expires.
`UNREGISTERED` (or an invalid registration token) removes the token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import jwt
import orjson

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.channels.http_result import from_response, guarded
from clarion.channels.push_common import TokenRemover, keep_tokens, string_data
from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.outbound import OutboundClient

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEFAULT_API = "https://fcm.googleapis.com"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _account(settings: Mapping[str, Any]) -> dict[str, Any]:
    raw = settings.get("service_account")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raw = None
    if not isinstance(raw, dict):
        raise InvalidInput(
            "the fcm provider needs settings.service_account (the key file's JSON)",
            field="settings.service_account",
        )
    for name in ("project_id", "client_email", "private_key", "token_uri"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise InvalidInput(
                f"service_account.{name} is missing", field=f"settings.service_account.{name}"
            )
    return raw


def fcm_message(message: RenderedMessage) -> dict[str, Any]:
    """The v1 `message` of a rendered push."""
    f = message.fields
    notification = {k: str(f[k]) for k in ("title", "body", "image") if f.get(k)}
    data = string_data(f.get("data"))
    if f.get("deep_link"):
        data["link"] = str(f["deep_link"])
    data["message_id"] = message.message_id
    body: dict[str, Any] = {"token": message.to, "notification": notification, "data": data}
    aps: dict[str, Any] = {}
    if f.get("sound"):
        aps["sound"] = str(f["sound"])
    if f.get("badge") is not None:
        aps["badge"] = int(f["badge"])
    apns: dict[str, Any] = {"headers": {"apns-push-type": "alert", "apns-priority": "10"}}
    android: dict[str, Any] = {"priority": "high"}
    if f.get("collapse_id"):
        android["collapse_key"] = str(f["collapse_id"])
        apns["headers"]["apns-collapse-id"] = str(f["collapse_id"])[:64]
    if aps:
        apns["payload"] = {"aps": aps}
    body.update(android=android, apns=apns)
    if f.get("deep_link"):
        body["webpush"] = {"fcm_options": {"link": str(f["deep_link"])}}
    return body


def error_code(answer: Any) -> tuple[str, str]:
    """(FCM error code, message) of an error answer."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code = str(error.get("status", ""))
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            code = str(detail["errorCode"])
    return code, str(error.get("message", ""))


class FcmProvider:
    name = "fcm"
    channel = "push"

    def __init__(
        self,
        settings: Mapping[str, Any],
        client: OutboundClient,
        clock: Clock,
        remove_token: TokenRemover = keep_tokens,
    ) -> None:
        self.account = _account(settings)
        self.api_url = str(settings.get("api_url") or DEFAULT_API).rstrip("/")
        self._client, self._clock, self._remove = client, clock, remove_token
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        """A cached OAuth token, renewed a minute before it expires."""
        now = self._clock.now().timestamp()
        async with self._lock:
            if self._token is not None and self._token[1] - 60 > now:
                return self._token[0]
            claims = {
                "iss": self.account["client_email"],
                "scope": SCOPE,
                "aud": self.account["token_uri"],
                "iat": int(now),
                "exp": int(now) + 3600,
            }
            headers = (
                {"kid": self.account["private_key_id"]}
                if self.account.get("private_key_id")
                else None
            )
            assertion = jwt.encode(
                claims, self.account["private_key"], algorithm="RS256", headers=headers
            )
            response = await self._client.request(
                "POST",
                self.account["token_uri"],
                data={"grant_type": GRANT, "assertion": assertion},
            )
            answer = response.json() if response.ok else {}
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str):
                raise _TokenRefused(response.status_code, response.text[:200])
            self._token = (token, now + float(answer.get("expires_in", 3600)))
            return token

    async def send(self, message: RenderedMessage) -> SendResult:
        return await guarded(lambda: self._send(message))

    async def _send(self, message: RenderedMessage) -> SendResult:
        try:
            token = await self.access_token()
        except _TokenRefused as exc:
            status = SendStatus.TRANSIENT if exc.status >= 500 else SendStatus.PERMANENT
            return SendResult(status, error=f"oauth token refused: {exc}")
        project = self.account["project_id"]
        response = await self._client.request(
            "POST",
            f"{self.api_url}/v1/projects/{project}/messages:send",
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            content=orjson.dumps({"message": fcm_message(message)}),
        )
        answer: Any = {}
        if response.content:
            try:
                answer = response.json()
            except ValueError:
                answer = {}
        if response.status_code == 401:
            self._token = None  # expired or revoked: a fresh one next time
        code, text = error_code(answer)
        dead = code == "UNREGISTERED" or (
            code == "INVALID_ARGUMENT" and "registration token" in text.lower()
        )
        if dead:
            await self._remove(message.workspace_id, message.to)
            return SendResult(
                SendStatus.PERMANENT,
                error=f"fcm {code}: token removed",
                details={"token_removed": True},
            )
        name = answer.get("name") if isinstance(answer, dict) else None
        return from_response(
            response,
            message_id=name if isinstance(name, str) else None,
            error=f"fcm {response.status_code} {code}: {text[:200]}" if code else None,
            now=self._clock.now(),
        )

    async def close(self) -> None:
        await self._client.aclose()


class _TokenRefused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"http {status}: {text}")
        self.status = status
