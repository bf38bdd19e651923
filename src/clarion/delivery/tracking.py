"""Signed tracking links: opens, clicks and unsubscribes.

A token carries what the endpoint needs (workspace, message, and for clicks
the destination) and an HMAC-SHA256 over it with the workspace's signing key,
so links cannot be forged, altered, or used as an open redirect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

_HREF = re.compile(r"""(<a\b[^>]*?\bhref=)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_BLOCK = 64  # SHA-256's block size, which HMAC pads the key to


@lru_cache(maxsize=256)
def _keyed(key: str) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states that have hashed the key's inner and outer pads (RFC 2104).

    Each token copies them: `hmac.HMAC.copy` does the same in Python code, at twice
    the cost; the result is the same HMAC-SHA256 (tested against `hmac`)."""
    raw = key.encode()
    if len(raw) > _BLOCK:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in raw))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in raw))
    return inner, outer


def _mac(key: str, body: bytes) -> bytes:
    """HMAC-SHA256 of `body` with `key`."""
    pads = _keyed(key)
    inner, outer = pads[0].copy(), pads[1].copy()
    inner.update(body)
    outer.update(inner.digest())
    return outer.digest()


def sign(key: str, payload: dict[str, Any]) -> str:
    """`<payload>.<signature>`, both base64url."""
    body = _b64(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    return f"{body}.{_b64(_mac(key, body.encode())[:16])}"


def workspace_of(token: str) -> str | None:
    """The (unverified) workspace a token names, to find the key to verify it with."""
    try:
        payload = orjson.loads(_unb64(token.split(".", 1)[0]))
    except (ValueError, orjson.JSONDecodeError):
        return None
    workspace = payload.get("w") if isinstance(payload, dict) else None
    return workspace if isinstance(workspace, str) else None


def verify(key: str, token: str) -> dict[str, Any] | None:
    """The payload of a token signed with `key`, or None if it was not."""
    body, _, mac = token.partition(".")
    try:
        expected = _mac(key, body.encode())[:16]
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        payload = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


@dataclass(slots=True)
class Links:
    """The tracking URLs of one message."""

    base_url: str
    key: str
    workspace_id: str
    message_id: str
    _plain: str | None = field(default=None, init=False, repr=False, compare=False)

    def _token(self, **extra: Any) -> str:
        return sign(self.key, {"w": self.workspace_id, "m": self.message_id, **extra})

    def _plain_token(self) -> str:
        """The token of the open pixel and the unsubscribe link (they carry the same)."""
        if self._plain is None:
            self._plain = self._token()
        return self._plain

    @property
    def open_pixel(self) -> str:
        return f"{self.base_url}/t/o/{self._plain_token()}.gif"

    def click(self, url: str) -> str:
        return f"{self.base_url}/t/c/{self._token(u=url)}"

    @property
    def unsubscribe(self) -> str:
        return f"{self.base_url}/u/{self._plain_token()}"

    def rewrite(self, html: str) -> str:
        """Clicks through the tracker, and an open pixel at the end of the body."""

        def swap(match: re.Match[str]) -> str:
            url = match.group(3).replace("&amp;", "&")
            if url.startswith(f"{self.base_url}/u/"):
                return match.group(0)  # the unsubscribe link stays direct
            return f"{match.group(1)}{match.group(2)}{self.click(url)}{match.group(2)}"

        tracked = _HREF.sub(swap, html)
        pixel = f'<img src="{self.open_pixel}" width="1" height="1" alt="" style="display:none">'
        # The last `</body>` in any case; lowering copies the whole body, so only when
        # the last lower-case one may not be it.
        closing = tracked.rfind("</body>")
        if closing == -1 or "</body>" in tracked[closing + 7 :].lower():
            closing = tracked.lower().rfind("</body>")
        if closing == -1:
            return tracked + pixel
        return tracked[:closing] + pixel + tracked[closing:]
