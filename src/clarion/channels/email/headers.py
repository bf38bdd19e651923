"""Header values as they go on the wire: RFC 2047 encoded-words, folding, dates.

Everything here returns `str` that is pure ASCII, uses CRLF folding, and keeps
each line within 78 characters where the content allows it (always within the
998-character limit of RFC 5322, or it refuses with `InvalidHeader`).
"""

from __future__ import annotations

import re
from binascii import b2a_base64
from datetime import UTC, datetime
from functools import lru_cache

from clarion.channels.email.errors import InvalidHeader

MAX_LINE = 78
"""Preferred line length (RFC 5322 section 2.1.1)."""
HARD_LINE = 998
"""Absolute line length limit, without the CRLF."""

_WORD_BYTES = 36
"""UTF-8 bytes per encoded-word: 48 base64 characters, a 60-character word."""

_PLAIN_TEXT = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_PRINTABLE_ASCII = re.compile(r"[\t\x20-\x7e]*")


def check_header_name(name: str) -> str:
    """Return `name` if it is a valid field name (printable ASCII, no colon)."""
    if not _HEADER_NAME.fullmatch(name):
        raise InvalidHeader(f"invalid header name {name!r}", field="headers")
    return name


def encoded_word(text: str) -> str:
    """All of `text` as one RFC 2047 "B" encoded-word in UTF-8, however long."""
    return f"=?utf-8?b?{b2a_base64(text.encode('utf-8'), newline=False).decode('ascii')}?="


def encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 "B" encoded-words in UTF-8, split on character boundaries.

    Decoders join adjacent encoded-words and drop the whitespace between them,
    so the words may be folded onto separate lines and still decode to `text`.
    """
    raw = text.encode("utf-8")
    words: list[str] = []
    start, end = 0, len(raw)
    while start < end:
        cut = min(start + _WORD_BYTES, end)
        while cut < end and 0x80 <= raw[cut] < 0xC0:  # never split a character
            cut -= 1
        chunk = b2a_base64(raw[start:cut], newline=False).decode("ascii")
        words.append(f"=?utf-8?b?{chunk}?=")
        start = cut
    return words


def fold(words: list[str], first_room: int, sep: str = " ") -> str:
    """Join `words` with `sep`, breaking lines (CRLF before the separator) near 78 columns.

    `first_room` is what is left on the first line after the field name and
    colon. Unfolding (removing each CRLF) gives back `sep.join(words)` exactly.
    A line is never broken before an empty word, which would leave a line of
    whitespace only.
    """
    if not words:
        return ""
    parts = [words[0]]
    used = len(words[0])
    room = first_room
    for word in words[1:]:
        if word and used + len(sep) + len(word) > room:
            parts.append("\r\n")
            room, used = MAX_LINE, 0
        parts.append(sep)
        parts.append(word)
        used += len(sep) + len(word)
    value = "".join(parts)
    lines = value.split("\r\n")
    if MAX_LINE - first_room + len(lines[0]) > HARD_LINE or max(map(len, lines)) > HARD_LINE:
        raise InvalidHeader("a header word is too long for a line", field="headers")
    return value


@lru_cache(maxsize=4096)
def unstructured(value: str, name_length: int) -> str:
    """An unstructured value (Subject and the like) that decodes back to `value` exactly.

    Plain ASCII words separated by single spaces go as they are (folded);
    anything else (non-ASCII, control characters, runs or ends of whitespace,
    text that looks like an encoded-word, very long words) becomes encoded-words.
    """
    room = MAX_LINE - name_length - 2
    if (
        _PLAIN_TEXT.fullmatch(value)
        and "=?" not in value
        and max(map(len, value.split(" "))) <= MAX_LINE - 2
    ):
        return fold(value.split(" "), room)
    return fold(encoded_words(value), room)


@lru_cache(maxsize=4096)
def structured(value: str, name_length: int) -> str:
    """A value that must stay readable as it is (List-Unsubscribe, ...), folded at spaces.

    Non-ASCII text becomes encoded-words; control characters other than tab are
    refused (they could inject headers). Surrounding whitespace is dropped.
    """
    value = value.strip(" \t")
    if not value.isascii():
        return unstructured(value, name_length)
    if not _PRINTABLE_ASCII.fullmatch(value):
        raise InvalidHeader("header value contains control characters", field="headers")
    return fold(value.split(" "), MAX_LINE - name_length - 2)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(moment: datetime) -> str:
    """RFC 5322 date-time in UTC, e.g. `Mon, 05 Jan 2026 09:00:00 +0000`.

    `moment` must be timezone-aware (it comes from a `Clock`).
    """
    if moment.tzinfo is None:
        raise ValueError("the Date header needs a timezone-aware datetime")
    return _format_second(int(moment.timestamp()))


@lru_cache(maxsize=64)
def _format_second(epoch_seconds: int) -> str:
    t = datetime.fromtimestamp(epoch_seconds, UTC)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000"
    )
