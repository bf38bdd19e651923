"""Body parts: line endings normalised to CRLF, then the cheapest safe transfer encoding.

A part is sent as `7bit` when it is ASCII with lines of at most 998 octets,
otherwise as `quoted-printable` or `base64`, whichever is shorter (mostly-Latin
text stays readable as quoted-printable; CJK or emoji-heavy text goes base64).
Both encoders are the standard library's C implementations (`binascii`).
"""

from __future__ import annotations

import re
from binascii import b2a_base64, b2a_qp
from dataclasses import dataclass

_SEVEN_BIT = re.compile(rb"(?:[\t\x20-\x7e]{0,998}\r\n)*")
_BASE64_LINE = 57
"""Input bytes per base64 line (76 output characters)."""


@dataclass(frozen=True, slots=True)
class EncodedBody:
    """A body part ready for the wire: its Content-Transfer-Encoding and CRLF-lined bytes."""

    encoding: str
    data: bytes


def normalise_newlines(text: str) -> str:
    """Every line break (CRLF, LF or lone CR) as CRLF, ending with one unless empty.

    This is the form a body round-trips to through a standard MIME parser.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\n", "\r\n")
    if text and not text.endswith("\r\n"):
        text += "\r\n"
    return text


def encode_body(text: str, boundary: bytes = b"") -> EncodedBody:
    """Encode `text` (any line endings) for a part delimited by `boundary`.

    The result never contains `--boundary` at a line start, so the delimiter
    stays unambiguous: quoted-printable and base64 output cannot contain the
    `=_` that starts our boundaries, and 7bit text that happens to contain the
    boundary is sent quoted-printable instead.
    """
    raw = normalise_newlines(text).encode("utf-8", "surrogatepass")
    if (
        raw.isascii()
        and _SEVEN_BIT.fullmatch(raw)
        and (not boundary or b"--" + boundary not in raw)
    ):
        return EncodedBody("7bit", raw)
    qp = b2a_qp(raw, quotetabs=False, istext=True, header=False)
    if len(qp) * 3 <= len(raw) * 4 + 64:
        return EncodedBody("quoted-printable", qp)
    return EncodedBody("base64", _base64_lines(raw))


def _base64_lines(raw: bytes) -> bytes:
    return b"".join(
        b2a_base64(raw[i : i + _BASE64_LINE], newline=False) + b"\r\n"
        for i in range(0, len(raw), _BASE64_LINE)
    )
