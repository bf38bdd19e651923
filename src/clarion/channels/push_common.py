"""What the push providers share: the removal of dead tokens, payload fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

TokenRemover = Callable[[str, str], Awaitable[None]]
"""(workspace id, token) -> removes the token from whichever profile holds it."""


async def keep_tokens(_workspace_id: str, _token: str) -> None:
    return None


def string_data(data: Any) -> dict[str, str]:
    """FCM's `data` holds strings only."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        out[str(key)] = value if isinstance(value, str) else _json(value)
    return out


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()
