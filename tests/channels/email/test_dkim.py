"""DKIM signatures made with `cryptography` verify with dkimpy (RSA-SHA256 and Ed25519-SHA256)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import dkim
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.channels.base import RenderedEmail
from clarion.channels.email import (
    DkimKey,
    DkimSigner,
    InvalidDkimKey,
    build_message,
    generate_dkim_key,
    load_private_key,
)
from clarion.channels.email.dkim import relaxed_body, relaxed_header, split_message

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["rsa", "ed25519"])
def key(request: pytest.FixtureRequest) -> DkimKey:
    return generate_dkim_key(request.param)


def dns_for(*keys: tuple[str, DkimKey]) -> Callable[..., bytes]:
    """A dnsfunc for dkimpy answering `{selector}._domainkey.example.com` with the key record."""
    records = {f"{sel}._domainkey.example.com.".encode(): k.dns_record.encode() for sel, k in keys}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return records.get(name, b"")

    return dnsfunc


def message(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "message_id": "msg_00112233445566778899aabbccddeeff",
        "sender": "Shop <shop@example.com>",
        "to": "bob@example.org",
        "subject": "Your order",
        "html": "<p>Thanks for your order</p>",
        "text": "Thanks for your order\n",
        "headers": (
            ("List-Unsubscribe", "<https://shop.example.com/u/1>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    }
    fields.update(changes)
    return build_message(RenderedEmail(**fields), date=NOW).data  # type: ignore[arg-type]


def signer_for(key: DkimKey, **kwargs: object) -> DkimSigner:
    return DkimSigner(domain="example.com", selector="s1", private_key=key.private_pem, **kwargs)  # type: ignore[arg-type]


def test_signature_verifies_with_dkimpy(key: DkimKey) -> None:
    signed = signer_for(key).sign(message(), now=NOW)
    assert signed.startswith(b"DKIM-Signature: v=1; a=" + f"{key.algorithm}-sha256".encode())
    assert dkim.verify(signed, dnsfunc=dns_for(("s1", key)))


def test_non_ascii_subject_and_long_bodies_verify(key: DkimKey) -> None:
    body = ("Zoë's très long line with  double  spaces \t and tabs " * 40 + "\n") * 200
    data = message(subject="Zoë, votre panier 🛒 " * 5, text=body, html=f"<pre>{body}</pre>")
    assert len(data) > 200_000
    assert dkim.verify(signer_for(key).sign(data, now=NOW), dnsfunc=dns_for(("s1", key)))


def test_tampering_breaks_the_signature(key: DkimKey) -> None:
    signed = signer_for(key).sign(message(), now=NOW)
    dnsfunc = dns_for(("s1", key))
    assert not dkim.verify(signed.replace(b"Thanks for", b"Thanks four", 1), dnsfunc=dnsfunc)
    assert not dkim.verify(signed.replace(b"Subject: Your", b"Subject: Our"), dnsfunc=dnsfunc)
    assert not dkim.verify(signed.replace(b"https://shop.", b"https://evil."), dnsfunc=dnsfunc)


def test_relaxed_canonicalisation_survives_whitespace_changes_in_transit(key: DkimKey) -> None:
    signed = signer_for(key).sign(message(text="a  b\n"), now=NOW)
    rewritten = signed.replace(b"Subject: Your order", b"subject:   Your \t order ")
    rewritten = rewritten.replace(b"a  b\r\n", b"a \t b  \r\n")
    assert rewritten != signed
    assert dkim.verify(rewritten, dnsfunc=dns_for(("s1", key)))


def test_signing_with_two_keys_gives_two_signatures_that_both_verify() -> None:
    rsa_key, ed_key = generate_dkim_key("rsa", bits=1024), generate_dkim_key("ed25519")
    data = message()
    data = DkimSigner(domain="example.com", selector="rsa1", private_key=rsa_key.private_pem).sign(
        data, now=NOW
    )
    data = DkimSigner(domain="example.com", selector="ed1", private_key=ed_key.private_pem).sign(
        data, now=NOW
    )
    dnsfunc = dns_for(("rsa1", rsa_key), ("ed1", ed_key))
    assert data.count(b"DKIM-Signature:") == 2
    assert dkim.DKIM(data).verify(idx=0, dnsfunc=dnsfunc)
    assert dkim.DKIM(data).verify(idx=1, dnsfunc=dnsfunc)


def test_tags_name_the_signed_headers_and_the_clock_time(key: DkimKey) -> None:
    signer = signer_for(key, signed_headers=("Subject", "To", "X-Absent"))
    field = signer.signature_field(message(), now=NOW).decode()
    unfolded = re.sub(r"\r\n\s*", "", field)
    assert re.search(r"h=from:subject:to;", unfolded)
    assert f"t={int(NOW.timestamp())};" in unfolded
    assert "c=relaxed/relaxed;" in unfolded
    assert "d=example.com;" in unfolded
    assert "s=s1;" in unfolded
    assert max(len(line) for line in field.split("\r\n")) <= 78


def test_rfc_6376_relaxed_canonicalisation_example() -> None:
    """RFC 6376 section 3.4.6, example 1 (relaxed header and body)."""
    fields, body = split_message(b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n")
    assert [relaxed_header(*f) for f in fields] == [b"a:X", b"b:Y Z"]
    assert relaxed_body(body) == b" C\r\nD E\r\n"
    assert relaxed_body(b"\r\n\r\n") == b""


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(subject=st.text(max_size=120), text=st.text(max_size=3000), html=st.none() | st.text())
def test_random_messages_verify(key: DkimKey, subject: str, text: str, html: str | None) -> None:
    signed = signer_for(key).sign(message(subject=subject, text=text, html=html), now=NOW)
    assert dkim.verify(signed, dnsfunc=dns_for(("s1", key)))


def test_generated_key_has_a_publishable_record(key: DkimKey) -> None:
    assert key.dns_record.startswith(f"v=DKIM1; k={key.algorithm}; p=")
    assert key.dns_name("s1", "example.com") == "s1._domainkey.example.com"
    assert all(len(part) <= 255 for part in key.txt_strings())
    assert "".join(key.txt_strings()) == key.dns_record
    line = key.zone_line("s1", "example.com")
    assert line.startswith('s1._domainkey.example.com. IN TXT ( "v=DKIM1;')
    loaded = load_private_key(key.private_pem)
    assert DkimSigner(domain="example.com", selector="s1", private_key=loaded).algorithm == (
        f"{key.algorithm}-sha256"
    )


def test_bad_keys_and_names_are_refused() -> None:
    with pytest.raises(InvalidDkimKey):
        load_private_key("not a key")
    with pytest.raises(InvalidDkimKey):
        generate_dkim_key("rsa", bits=512)
    with pytest.raises(InvalidDkimKey):
        generate_dkim_key("dsa")  # type: ignore[arg-type]
    key = generate_dkim_key("ed25519")
    with pytest.raises(InvalidDkimKey):
        DkimSigner(domain="example.com", selector="bad selector", private_key=key.private_pem)
