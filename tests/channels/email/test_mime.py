"""The hand-assembled MIME parses with the standard library and round-trips exactly."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.channels.base import RenderedEmail
from clarion.channels.email import InvalidAddress, InvalidHeader, build_message
from clarion.channels.email.bodies import normalise_newlines

DATE = datetime(2026, 1, 5, 9, 30, 15, tzinfo=UTC)
MID = "msg_0123456789abcdef0123456789abcdef"
FRENCH = "Bonjour, votre commande est prête. Merci d'avoir choisi notre café !\n" * 3


def rendered(**changes: object) -> RenderedEmail:
    fields: dict[str, object] = {
        "message_id": MID,
        "sender": "Shop <shop@example.com>",
        "to": "bob@example.org",
        "subject": "Bob, you left something in your cart",
        "html": "<p>Hello Bob, <a href='https://shop.example.com/cart'>your cart</a></p>",
        "text": "Hello Bob, your cart: https://shop.example.com/cart\n",
    }
    fields.update(changes)
    return RenderedEmail(**fields)  # type: ignore[arg-type]


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def assert_wire_clean(data: bytes) -> None:
    """7-bit, CRLF only, every line within 998 octets, no defects."""
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    message = parse(data)
    assert not message.defects
    for part in message.walk():
        assert not part.defects, part.defects


def test_multipart_message_has_every_header_and_both_parts() -> None:
    wire = build_message(
        rendered(
            reply_to="Help Desk <help@example.com>",
            headers=(
                ("List-Unsubscribe", "<https://shop.example.com/u/abc>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ),
        ),
        date=DATE,
    )
    assert_wire_clean(wire.data)
    message = parse(wire.data)
    assert message["From"] == "Shop <shop@example.com>"
    assert message["To"] == "bob@example.org"
    assert message["Subject"] == "Bob, you left something in your cart"
    assert message["Date"] == "Mon, 05 Jan 2026 09:30:15 +0000"
    assert message["Date"].datetime == DATE
    assert message["Message-ID"] == f"<{MID}@example.com>"
    assert message["MIME-Version"] == "1.0"
    assert message["Reply-To"] == "Help Desk <help@example.com>"
    assert message["List-Unsubscribe"] == "<https://shop.example.com/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content() == "Hello Bob, your cart: https://shop.example.com/cart\r\n"
    assert html.get_content_type() == "text/html"
    assert html.get_content() == (
        "<p>Hello Bob, <a href='https://shop.example.com/cart'>your cart</a></p>\r\n"
    )
    assert (wire.sender, wire.recipient) == ("shop@example.com", "bob@example.org")
    assert wire.message_id == f"<{MID}@example.com>"


def test_text_only_message_is_a_single_text_part() -> None:
    message = parse(build_message(rendered(html=None, text="Just text"), date=DATE).data)
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert message.get_content() == "Just text\r\n"


def test_non_ascii_subject_is_encoded_word_and_ascii_on_the_wire() -> None:
    subject = "Zoë, votre panier vous attend 🛒 — 残りわずか"
    wire = build_message(rendered(subject=subject), date=DATE)
    assert b"=?utf-8?b?" in wire.data
    assert_wire_clean(wire.data)
    assert parse(wire.data)["Subject"] == subject


def test_body_encodings_follow_the_content() -> None:
    latin = build_message(rendered(html=None, text=FRENCH), date=DATE)
    cjk = build_message(rendered(html=None, text="残りわずかです。" * 20), date=DATE)
    long_ascii = build_message(rendered(html=None, text="x" * 2000), date=DATE)
    assert b"Content-Transfer-Encoding: quoted-printable" in latin.data
    assert b"Content-Transfer-Encoding: base64" in cjk.data
    assert b"Content-Transfer-Encoding: quoted-printable" in long_ascii.data
    short = build_message(rendered(html=None, text="plain"), date=DATE)
    assert b"Content-Transfer-Encoding: 7bit" in short.data
    for wire, text in ((latin, FRENCH), (cjk, "残りわずかです。" * 20)):
        assert_wire_clean(wire.data)
        assert parse(wire.data).get_content() == normalise_newlines(text)


def test_a_body_that_contains_the_boundary_is_not_sent_7bit() -> None:
    first = build_message(rendered(), date=DATE).data
    boundary = re.search(rb'boundary="([^"]+)"', first).group(1).decode()  # type: ignore[union-attr]
    text = f"before\n--{boundary}\nafter\n--{boundary}--\n"
    wire = build_message(rendered(text=text), date=DATE)
    message = parse(wire.data)
    plain, html = message.iter_parts()
    assert plain.get_content() == normalise_newlines(text)
    assert html.get_content_type() == "text/html"


def test_display_names_with_specials_and_unicode_round_trip() -> None:
    for name in ('Doe, John "JD"', "Zoë Ünïcode", "back\\slash", "=?not an encoded word?="):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        wire = build_message(rendered(sender=f'"{escaped}" <shop@example.com>'), date=DATE)
        (address,) = parse(wire.data)["From"].addresses
        assert (address.display_name, address.addr_spec) == (name, "shop@example.com")


def test_unicode_domains_go_out_in_idna() -> None:
    wire = build_message(rendered(to="Jörg <jorg@bücher.example>"), date=DATE)
    assert wire.recipient == "jorg@xn--bcher-kva.example"
    (address,) = parse(wire.data)["To"].addresses
    assert address.display_name == "Jörg"


def test_date_is_written_in_utc_whatever_the_offset() -> None:
    paris = datetime(2026, 1, 5, 10, 30, 15, tzinfo=timezone(timedelta(hours=1)))
    assert parse(build_message(rendered(), date=paris).data)["Date"].datetime == DATE


def test_message_id_domain_can_be_configured() -> None:
    wire = build_message(rendered(), date=DATE, message_id_domain="mail.example.net")
    assert parse(wire.data)["Message-ID"] == f"<{MID}@mail.example.net>"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"to": "not-an-address"}, InvalidAddress),
        ({"to": "jörg@example.com"}, InvalidAddress),
        ({"sender": ""}, InvalidAddress),
        ({"headers": (("Bcc", "spy@example.com"),)}, InvalidHeader),
        ({"headers": (("X-Note", "a\r\nBcc: spy@example.com"),)}, InvalidHeader),
        ({"headers": (("Bad Name", "x"),)}, InvalidHeader),
        ({"message_id": "has space"}, InvalidHeader),
    ],
)
def test_unsafe_input_is_refused(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        build_message(rendered(**changes), date=DATE)


def test_header_injection_in_the_subject_stays_inside_the_subject() -> None:
    subject = "Hi\r\nBcc: spy@example.com"
    message = parse(build_message(rendered(subject=subject), date=DATE).data)
    assert message["Bcc"] is None
    assert message["Subject"] == subject


def test_default_sender_stands_in_for_an_empty_from() -> None:
    wire = build_message(rendered(sender=""), date=DATE, default_sender="News <news@example.com>")
    assert parse(wire.data)["From"] == "News <news@example.com>"


def test_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_message(rendered(), date=datetime(2026, 1, 5, 9, 0))


# Property tests: random Unicode in every field survives the trip through the parser.

NAMES = st.text(min_size=1, max_size=60).filter(lambda s: s.strip() == s and s.isprintable())
BODIES = st.text(max_size=400) | st.builds(
    lambda line, n: "\n".join([line] * n), st.text(min_size=50, max_size=300), st.integers(1, 8)
)
HEADER_VALUES = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300
).map(lambda s: s.strip())


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=st.text(max_size=200),
    name=NAMES,
    to_name=NAMES,
    text=BODIES,
    html=st.none() | BODIES,
    unsubscribe=HEADER_VALUES,
    note=st.text(max_size=100).filter(lambda s: s.isprintable()).map(str.strip),
)
def test_round_trip_through_the_standard_parser(
    subject: str, name: str, to_name: str, text: str, html: str | None, unsubscribe: str, note: str
) -> None:
    quote = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')  # noqa: E731
    wire = build_message(
        rendered(
            sender=f'"{quote(name)}" <shop@example.com>',
            to=f'"{quote(to_name)}" <bob@example.org>',
            subject=subject,
            text=text,
            html=html,
            headers=(("List-Unsubscribe", unsubscribe), ("X-Note", note)),
        ),
        date=DATE,
    )
    assert_wire_clean(wire.data)
    message = parse(wire.data)
    assert message["Subject"] == subject
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, "shop@example.com")
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (to_name, "bob@example.org")
    assert message["List-Unsubscribe"] == unsubscribe
    assert message["X-Note"] == note
    assert message["Message-ID"] == f"<{MID}@example.com>"
    if html is None:
        assert message.get_content() == normalise_newlines(text)
    else:
        plain, rich = message.iter_parts()
        assert plain.get_content() == normalise_newlines(text)
        assert rich.get_content() == normalise_newlines(html)
