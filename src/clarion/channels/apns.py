"""Apple Push Notification service: token-based (JWT, ES256) over HTTP/2.

Settings: `team_id`, `key_id`, `private_key` (the .p8 PEM), `topic` (the bundle
id), optional `sandbox` or `api_url`. One provider JWT is reused for 40
minutes (Apple wants 20 to 60). `410 Unregistered`, `BadDeviceToken` and
`DeviceTokenNotForTopic` remove the token; `ExpiredProviderToken` renews it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import jwt
import orjson

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.channels.http_result import from_response, guarded
from clarion.channels.push_common import TokenRemover, keep_tokens
from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.outbound import OutboundClient

PRODUCTION = "https://api.push.apple.com"
SANDBOX = "https://api.sandbox.push.apple.com"
TOKEN_SECONDS = 40 * 60
DEAD_TOKEN = frozenset({"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"})


def apns_payload(message: RenderedMessage) -> dict[str, Any]:
    f = message.fields
    alert = {k: str(f[k]) for k in ("title", "body") if f.get(k)}
    aps: dict[str, Any] = {"alert": alert}
    if f.get("sound"):
        aps["sound"] = str(f["sound"])
    if f.get("badge") is not None:
        aps["badge"] = int(f["badge"])
    if f.get("image"):
        aps["mutable-content"] = 1
    payload: dict[str, Any] = {"aps": aps, "message_id": message.message_id}
    data = f.get("data")
    if isinstance(data, dict):
        payload.update({k: v for k, v in data.items() if k != "aps"})
    if f.get("deep_link"):
        payload["link"] = str(f["deep_link"])
    if f.get("image"):
        payload["image"] = str(f["image"])
    return payload


def apns_id(message_id: str) -> str:
    """Our message id as the UUID APNs echoes back (`msg_` + 32 hex digits)."""
    digits = message_id.removeprefix("msg_")
    try:
        return str(uuid.UUID(hex=digits[:32]))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, message_id))


class ApnsProvider:
    name = "apns"
    channel = "push"

    def __init__(
        self,
        settings: Mapping[str, Any],
        client: OutboundClient,
        clock: Clock,
        remove_token: TokenRemover = keep_tokens,
    ) -> None:
        for field in ("team_id", "key_id", "private_key", "topic"):
            if not isinstance(settings.get(field), str) or not settings[field]:
                raise InvalidInput(
                    f"the apns provider needs settings.{field}", field=f"settings.{field}"
                )
        self.team_id, self.key_id = str(settings["team_id"]), str(settings["key_id"])
        self.topic, self._key = str(settings["topic"]), str(settings["private_key"])
        default = SANDBOX if settings.get("sandbox") else PRODUCTION
        self.api_url = str(settings.get("api_url") or default).rstrip("/")
        try:
            jwt.encode({"iss": self.team_id, "iat": 0}, self._key, algorithm="ES256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise InvalidInput(
                f"settings.private_key is not an ES256 key: {exc}", field="settings.private_key"
            ) from exc
        self._client, self._clock, self._remove = client, clock, remove_token
        self._jwt: tuple[str, float] | None = None

    def provider_token(self, renew: bool = False) -> str:
        now = self._clock.now().timestamp()
        if renew or self._jwt is None or now - self._jwt[1] >= TOKEN_SECONDS:
            token = jwt.encode(
                {"iss": self.team_id, "iat": int(now)},
                self._key,
                algorithm="ES256",
                headers={"kid": self.key_id},
            )
            self._jwt = (token, now)
        return self._jwt[0]

    async def send(self, message: RenderedMessage) -> SendResult:
        return await guarded(lambda: self._send(message))

    async def _send(self, message: RenderedMessage) -> SendResult:
        headers = {
            "authorization": f"bearer {self.provider_token()}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-id": apns_id(message.message_id),
        }
        collapse = message.fields.get("collapse_id")
        if collapse:
            headers["apns-collapse-id"] = str(collapse)[:64]
        body = orjson.dumps(apns_payload(message))
        if len(body) > 4096:
            return SendResult(SendStatus.PERMANENT, error="payload larger than 4 KB")
        response = await self._client.request(
            "POST", f"{self.api_url}/3/device/{message.to}", headers=headers, content=body
        )
        reason = ""
        if response.content:
            try:
                reason = str(response.json().get("reason", ""))
            except (ValueError, AttributeError):
                reason = ""
        if response.status_code == 410 or reason in DEAD_TOKEN:
            await self._remove(message.workspace_id, message.to)
            return SendResult(
                SendStatus.PERMANENT,
                error=f"apns {reason or 'Unregistered'}: token removed",
                details={"token_removed": True},
            )
        if reason == "ExpiredProviderToken":
            self.provider_token(renew=True)
            return SendResult(SendStatus.TRANSIENT, error="apns ExpiredProviderToken")
        return from_response(
            response,
            message_id=response.headers.get("apns-id"),
            error=f"apns {response.status_code} {reason}" if reason else None,
            now=self._clock.now(),
        )

    async def close(self) -> None:
        await self._client.aclose()
