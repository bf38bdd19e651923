"""Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next": ...}` out."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Query

from clarion.model.errors import InvalidInput
from clarion.storage.base import Page

T = TypeVar("T")

MAX_LIMIT = 1000


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("not a cursor this API returned", field="cursor") from exc


def page_params(
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="at most this many items"),
    cursor: str | None = Query(None, description="the `next` value of the previous page"),
) -> Page:
    """The page asked for; one extra item is fetched to know whether more follow."""
    return Page(limit=limit + 1, after=decode_cursor(cursor) if cursor else None)


def paged(
    rows: Sequence[T], page: Page, render: Callable[[T], dict[str, Any]], key: Callable[[T], str]
) -> dict[str, Any]:
    """The list response for rows fetched with `page` (which asked for one extra)."""
    wanted = page.limit - 1
    items = list(rows[:wanted])
    more = len(rows) > wanted
    return {
        "items": [render(r) for r in items],
        "next": encode_cursor(key(items[-1])) if more and items else None,
    }
