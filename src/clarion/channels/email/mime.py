"""RFC 5322 / MIME bytes for a `RenderedEmail`, assembled by hand (a few microseconds).

The standard library's `EmailMessage.as_bytes()` spends ~600 µs on a small
message; this builder writes the same structure directly: header values go
through small cached encoders (a template's sender, reply-to and static
headers are encoded once), bodies through `binascii`. The output is 7-bit
clean, CRLF-terminated, with every line within 998 octets (78 for headers
where the content allows), and parses back with the standard `email` package
to the same subject, names, addresses, headers and bodies (bodies with their
line breaks as CRLF and a final line break; see `normalise_newlines`).

The `preheader` of a `RenderedEmail` is not added here: the renderer puts it
into the HTML, where clients look for it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from clarion.channels.base import RenderedEmail
from clarion.channels.email.addresses import parse_mailbox
from clarion.channels.email.bodies import encode_body
from clarion.channels.email.errors import InvalidHeader
from clarion.channels.email.headers import (
    check_header_name,
    format_date,
    structured,
    unstructured,
)

RESERVED_HEADERS = frozenset(
    {
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "reply-to", "sender",
        "return-path", "dkim-signature",
    }
)  # fmt: skip
"""Headers the builder writes itself; `RenderedEmail.headers` may not set them."""

_ID_LEFT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_TEXT_PLAIN = b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: '
_TEXT_HTML = b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: '


@dataclass(frozen=True, slots=True)
class WireMessage:
    """A message ready for SMTP: the bytes plus the envelope taken from its headers."""

    data: bytes
    sender: str
    """The From address (`local@domain`, ASCII), the default envelope sender."""
    recipient: str
    """The To address (`local@domain`, ASCII), the envelope recipient."""
    message_id: str
    """The Message-ID header value, angle brackets included."""


def build_message(
    email: RenderedEmail,
    *,
    date: datetime,
    message_id_domain: str | None = None,
    default_sender: str | None = None,
) -> WireMessage:
    """Assemble `email` into wire bytes dated `date` (timezone-aware, from a `Clock`).

    The Message-ID is `<{email.message_id}@{domain}>`, the domain being
    `message_id_domain` or else the From address's domain. `default_sender`
    stands in when `email.sender` is empty. Raises `InvalidAddress` or
    `InvalidHeader` (both `InvalidInput`) for what cannot be written safely.
    """
    sender = parse_mailbox(email.sender or default_sender or "", "from")
    to = parse_mailbox(email.to, "to")
    if not _ID_LEFT.fullmatch(email.message_id):
        raise InvalidHeader(
            f"message id {email.message_id!r} cannot be a Message-ID", field="message_id"
        )
    message_id = f"<{email.message_id}@{message_id_domain or sender.domain}>"
    head = [
        "From: ", sender.header_value(4), "\r\n",
        "To: ", to.header_value(2), "\r\n",
        "Subject: ", unstructured(email.subject, 7), "\r\n",
        "Date: ", format_date(date), "\r\n",
        "Message-ID: ", message_id, "\r\n",
    ]  # fmt: skip
    if email.reply_to:
        head += ("Reply-To: ", parse_mailbox(email.reply_to, "reply_to").header_value(8), "\r\n")
    for name, value in email.headers:
        if name.lower() in RESERVED_HEADERS:
            raise InvalidHeader(f"the {name} header is written by the builder", field="headers")
        head += (check_header_name(name), ": ", structured(value, len(name)), "\r\n")
    head.append("MIME-Version: 1.0\r\n")
    if email.html is None:
        text = encode_body(email.text)
        head += ('Content-Type: text/plain; charset="utf-8"\r\n',
                 "Content-Transfer-Encoding: ", text.encoding, "\r\n\r\n")  # fmt: skip
        data = "".join(head).encode("ascii") + text.data
        return WireMessage(data, sender.addr_spec, to.addr_spec, message_id)
    boundary = b"=_" + hashlib.blake2b(message_id.encode(), digest_size=12).hexdigest().encode()
    delimiter = b"\r\n--" + boundary + b"\r\n"
    text = encode_body(email.text, boundary)
    html = encode_body(email.html, boundary)
    head += ('Content-Type: multipart/alternative; boundary="', boundary.decode(), '"\r\n\r\n')
    data = b"".join(
        (
            "".join(head).encode("ascii"),
            delimiter[2:], _TEXT_PLAIN, text.encoding.encode(), b"\r\n\r\n", text.data,
            delimiter, _TEXT_HTML, html.encoding.encode(), b"\r\n\r\n", html.data,
            b"\r\n--", boundary, b"--\r\n",
        )
    )  # fmt: skip
    return WireMessage(data, sender.addr_spec, to.addr_spec, message_id)
