"""Request bodies: gzip decompression within limits, and JSON parsing."""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from clarion.ingest.errors import BodyTooLarge, InvalidEvent

MAX_EVENT_BYTES = 32 * 1024
"""The largest single event, as Segment and RudderStack allow."""

MAX_BATCH_BYTES = 4 * 1024 * 1024
"""The largest request body, decompressed (RudderStack's batch limit)."""


def decompress(body: bytes, encoding: str, limit: int = MAX_BATCH_BYTES) -> bytes:
    """The body without its content encoding, refusing anything over `limit` bytes.

    Decompression stops as soon as the output passes the limit, so a small
    "decompression bomb" costs no more than `limit` bytes of memory.
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding in ("gzip", "x-gzip", "deflate"):
        window = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(window)
        try:
            data = inflater.decompress(body, limit + 1)
            if len(data) <= limit and not inflater.eof:
                data += inflater.flush(limit + 1 - len(data))
        except zlib.error as exc:
            raise InvalidEvent(f"the body is not valid {encoding}: {exc}", field="body") from exc
        if len(data) <= limit and not inflater.eof:
            raise InvalidEvent(f"the {encoding} body is truncated", field="body")
    else:
        raise InvalidEvent(f"unsupported Content-Encoding {encoding!r}", field="Content-Encoding")
    if len(data) > limit:
        raise BodyTooLarge(f"the body is over {limit} bytes (after decompression)", field="body")
    return data


def parse_json(data: bytes) -> Any:
    """The JSON document in `data`, or a 400 naming the body."""
    if not data.strip():
        raise InvalidEvent("the body is empty; send a JSON object", field="body")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"the body is not valid JSON: {exc}", field="body") from exc
