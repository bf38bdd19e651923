"""SMS encoding and segments: GSM 03.38 (7-bit) or UCS-2, as carriers count them.

A message whose every character is in the GSM 03.38 default alphabet or its
extension table is sent 7-bit: 160 septets in one segment, 153 per segment when
concatenated (the user data header takes 7); extension characters (`{`, `€`,
...) take two septets, and an escape is never split from its character. Any
other character makes the whole message UCS-2: 70 UTF-16 code units in one
segment, 67 per segment when concatenated; a surrogate pair is never split.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"

_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """How a text goes over the air."""

    encoding: str
    """`GSM-7` or `UCS-2`."""
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character has a GSM 03.38 encoding."""
    return all(c in _BASIC or c in _EXTENSION for c in text)


def _pack(sizes: list[int], single: int, per_part: int) -> int:
    if sum(sizes) <= single:
        return 1 if sizes else 0
    segments, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            segments, used = segments + 1, 0
        used += size
    return segments


def sms_info(text: str) -> SmsInfo:
    """Encoding, length in units, and segment count of an SMS text."""
    if is_gsm7(text):
        sizes = [2 if c in _EXTENSION else 1 for c in text]
        return SmsInfo("GSM-7", sum(sizes), _pack(sizes, 160, 153))
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsInfo("UCS-2", sum(sizes), _pack(sizes, 70, 67))
