"""The push channel's router: web push subscriptions to Web Push, the rest to FCM or APNs.

Settings: `{"fcm": {...}, "apns": {...}, "webpush": {...}}`, any of them. A
device token `webpush:<id>` goes to Web Push; a 64-hex-digit token (an APNs
device token) goes to APNs when it is configured; every other token to FCM
(which also reaches iOS through its `apns` block).
"""

from __future__ import annotations

import re

from clarion.channels.base import Provider, RenderedMessage, SendResult, SendStatus
from clarion.channels.webpush import PREFIX

_APNS_TOKEN = re.compile(r"^[0-9a-fA-F]{64}$")


class PushRouter:
    name = "push"
    channel = "push"

    def __init__(
        self,
        fcm: Provider | None = None,
        apns: Provider | None = None,
        webpush: Provider | None = None,
    ) -> None:
        self.fcm, self.apns, self.webpush = fcm, apns, webpush

    def route(self, token: str) -> Provider | None:
        if token.startswith(PREFIX):
            return self.webpush
        if self.apns is not None and _APNS_TOKEN.match(token):
            return self.apns
        return self.fcm or self.apns

    async def send(self, message: RenderedMessage) -> SendResult:
        provider = self.route(message.to)
        if provider is None:
            return SendResult(
                SendStatus.PERMANENT, error="no push provider configured for this token"
            )
        return await provider.send(message)

    async def close(self) -> None:
        for provider in (self.fcm, self.apns, self.webpush):
            if provider is not None:
                await provider.close()
