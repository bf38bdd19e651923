"""SMS encoding and segment counts, checked against the GSM 03.38 table (3GPP TS 23.038 6.2.1).

The table below is written out by code point, as the standard prints it, and is
independent of the implementation's alphabet string. An oracle encodes a text
the way a sending SMSC does (septets with the escape, or UTF-16 code units),
cuts it into concatenated segments without splitting an escape sequence or a
surrogate pair, and decodes the segments back; hypothesis checks that the
implementation reports the same encoding, length and segment count.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from clarion.channels.sms_encoding import is_gsm7, sms_info

ESC = 0x1B
BASIC_TABLE: dict[int, str] = {
    0x00: "@", 0x01: "£", 0x02: "$", 0x03: "¥", 0x04: "è", 0x05: "é", 0x06: "ù", 0x07: "ì",
    0x08: "ò", 0x09: "Ç", 0x0A: "\n", 0x0B: "Ø", 0x0C: "ø", 0x0D: "\r", 0x0E: "Å", 0x0F: "å",
    0x10: "Δ", 0x11: "_", 0x12: "Φ", 0x13: "Γ", 0x14: "Λ", 0x15: "Ω", 0x16: "Π", 0x17: "Ψ",
    0x18: "Σ", 0x19: "Θ", 0x1A: "Ξ", 0x1C: "Æ", 0x1D: "æ", 0x1E: "ß", 0x1F: "É",
    0x20: " ", 0x21: "!", 0x22: '"', 0x23: "#", 0x24: "¤", 0x25: "%", 0x26: "&", 0x27: "'",
    0x28: "(", 0x29: ")", 0x2A: "*", 0x2B: "+", 0x2C: ",", 0x2D: "-", 0x2E: ".", 0x2F: "/",
    **{0x30 + d: str(d) for d in range(10)},
    0x3A: ":", 0x3B: ";", 0x3C: "<", 0x3D: "=", 0x3E: ">", 0x3F: "?",
    0x40: "¡", **{0x41 + i: chr(ord("A") + i) for i in range(26)},
    0x5B: "Ä", 0x5C: "Ö", 0x5D: "Ñ", 0x5E: "Ü", 0x5F: "§",
    0x60: "¿", **{0x61 + i: chr(ord("a") + i) for i in range(26)},
    0x7B: "ä", 0x7C: "ö", 0x7D: "ñ", 0x7E: "ü", 0x7F: "à",
}  # fmt: skip
"""The default alphabet: 127 characters (0x1B is the escape to the extension table)."""
EXTENSION_TABLE: dict[int, str] = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}  # fmt: skip
"""The default extension table: each is sent as ESC followed by its code."""

ENCODE = {char: [code] for code, char in BASIC_TABLE.items()}
ENCODE.update({char: [ESC, code] for code, char in EXTENSION_TABLE.items()})
DECODE_BASIC = {code: char for char, codes in ENCODE.items() if len(codes) == 1 for code in codes}
DECODE_EXTENSION = {code: char for code, char in EXTENSION_TABLE.items()}


def gsm_segments(text: str) -> tuple[int, list[list[int]]]:
    """(septets, segments): 160 in one, else 153 per segment, never ending on an escape."""
    septets = [code for char in text for code in ENCODE[char]]
    if len(septets) <= 160:
        return len(septets), [septets] if septets else []
    segments, start = [], 0
    while start < len(septets):
        end = min(start + 153, len(septets))
        if end < len(septets) and septets[end - 1] == ESC:
            end -= 1  # the escape travels with its character
        segments.append(septets[start:end])
        start = end
    return len(septets), segments


def gsm_decode(septets: list[int]) -> str:
    out, escaped = [], False
    for code in septets:
        if escaped:
            out.append(DECODE_EXTENSION[code])
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(DECODE_BASIC[code])
    assert not escaped, "a segment ends in the middle of an escape sequence"
    return "".join(out)


def ucs2_segments(text: str) -> tuple[int, list[bytes]]:
    """(code units, segments): 70 units (140 octets) in one, else 67 units per segment."""
    data = text.encode("utf-16-be")
    units = len(data) // 2
    if units <= 70:
        return units, [data] if data else []
    segments, start = [], 0
    while start < len(data):
        end = min(start + 134, len(data))
        if end < len(data) and 0xD800 <= int.from_bytes(data[end - 2 : end], "big") <= 0xDBFF:
            end -= 2  # a high surrogate stays with its low surrogate
        segments.append(data[start:end])
        start = end
    return units, segments


def test_the_table_has_the_standard_size() -> None:
    assert len(BASIC_TABLE) == 127 and len(set(BASIC_TABLE.values())) == 127
    assert len(EXTENSION_TABLE) == 10
    assert all(is_gsm7(c) for c in [*BASIC_TABLE.values(), *EXTENSION_TABLE.values()])
    # Look-alikes that are not in the table make a message UCS-2.
    for outsider in ("ç", "á", "Ä\u0301", "`", "\t", "\x1b", "ł", "Œ", "\u2019", "😀"):
        assert not is_gsm7(outsider), repr(outsider)


GSM_CHARS = sorted(ENCODE)
gsm_texts = st.lists(
    st.sampled_from(GSM_CHARS) | st.sampled_from(sorted(EXTENSION_TABLE.values())),
    max_size=700,
).map("".join)
any_texts = st.text(
    alphabet=st.sampled_from(GSM_CHARS) | st.characters(codec="utf-8", exclude_categories=["Cs"]),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(gsm_texts)
@example("a" * 160)
@example("a" * 161)
@example("a" * 152 + "€")  # the escape would be septet 153: it moves to segment 2
@example("€" * 80)
@example("€" * 81)
@example("a" * 306)
@example("a" * 307)
def test_gsm7_texts_count_septets_and_segments_as_an_smsc(text: str) -> None:
    septets, segments = gsm_segments(text)
    assert "".join(gsm_decode(s) for s in segments) == text
    assert all(len(s) <= (160 if len(segments) == 1 else 153) for s in segments)
    info = sms_info(text)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", septets, len(segments))


@settings(max_examples=300, deadline=None)
@given(any_texts)
@example("é" * 69 + "ł")
@example("x" * 69 + "😀")  # 71 units: the pair is not split
@example("😀" * 35)
@example("😀" * 36)
@example("ç" * 134)
@example("ç" * 135)
def test_any_other_character_makes_the_message_ucs2(text: str) -> None:
    info = sms_info(text)
    if all(c in ENCODE for c in text):
        assert info.encoding == "GSM-7"
        return
    units, segments = ucs2_segments(text)
    assert b"".join(segments).decode("utf-16-be") == text
    assert all(s.decode("utf-16-be") for s in segments)  # no segment splits a surrogate pair
    assert all(len(s) <= (140 if len(segments) == 1 else 134) for s in segments)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", units, len(segments))
