"""Mailboxes: `Name <local@domain>` parsed once, written as header text and envelope address.

Accepted forms: `local@domain`, `Name <local@domain>` and `"Quoted, Name"
<local@domain>` (backslash escapes inside the quotes). The display name may be
any Unicode text; it goes on the wire as an atom phrase, a quoted string or
RFC 2047 encoded-words, whichever decodes back to the same name. Domains in
Unicode are written in IDNA (punycode). Local parts must be ASCII: a message to
a non-ASCII mailbox would need SMTPUTF8, which this path does not use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from clarion.channels.email.errors import InvalidAddress
from clarion.channels.email.headers import HARD_LINE, MAX_LINE, encoded_word, encoded_words, fold

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_QUOTED_LOCAL = re.compile(r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"')
_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_LITERAL = re.compile(r"\[[\x21-\x5a\x5e-\x7e]+\]")
_SIMPLE = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9.-]+")
_PHRASE = re.compile(rf"{_ATEXT}(?: {_ATEXT})*")
_UNQUOTE = re.compile(r"\\(.)", re.DOTALL)
_ONE_WORD_BYTES = 600
"""Display names up to this size go in one encoded-word (see `_header_value`)."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A parsed mailbox: the display name (any Unicode) and the ASCII `local@domain`."""

    display_name: str
    addr_spec: str

    @property
    def domain(self) -> str:
        """The part after the last `@` (ASCII, IDNA-encoded if it was Unicode)."""
        return self.addr_spec.rpartition("@")[2]

    def header_value(self, name_length: int) -> str:
        """The mailbox as the value of a header whose name has `name_length` characters."""
        return _header_value(self.display_name, self.addr_spec, name_length)


def parse_mailbox(text: str, field: str = "to") -> Mailbox:
    """Parse `addr`, `Name <addr>` or `"Name" <addr>`; raises `InvalidAddress` naming `field`."""
    if _SIMPLE.fullmatch(text) and _DOMAIN.fullmatch(text.rpartition("@")[2]):
        return Mailbox("", text)
    return _parse_cached(text, field)


@lru_cache(maxsize=1024)
def _parse_cached(text: str, field: str) -> Mailbox:
    text = text.strip()
    name = ""
    addr = text
    if text.endswith(">") and "<" in text:
        cut = text.rindex("<")
        name, addr = text[:cut].strip(), text[cut + 1 : -1].strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = _UNQUOTE.sub(r"\1", name[1:-1])
    return Mailbox(name, addr_spec(addr, field))


def addr_spec(addr: str, field: str = "to") -> str:
    """Validate `local@domain` and return it in wire form (IDNA domain)."""
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"not an email address: {addr!r}", field=field)
    if not (_DOT_ATOM.fullmatch(local) or _QUOTED_LOCAL.fullmatch(local)):
        reason = "needs SMTPUTF8" if not local.isascii() else "has an invalid local part"
        raise InvalidAddress(f"the address {addr!r} {reason}", field=field)
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidAddress(f"invalid domain in {addr!r}", field=field) from exc
    if not (_DOMAIN.fullmatch(domain) or _LITERAL.fullmatch(domain)):
        raise InvalidAddress(f"invalid domain in {addr!r}", field=field)
    spec = f"{local}@{domain}"
    if len(spec) > 254:
        raise InvalidAddress(f"the address {addr!r} is too long", field=field)
    return spec


@lru_cache(maxsize=1024)
def _header_value(name: str, spec: str, name_length: int) -> str:
    """`Name <spec>` with the name as an atom phrase, a quoted string or an encoded-word.

    A name that needs encoding goes in a single encoded-word, longer than the
    75 characters RFC 2047 asks for when the name is long: decoders that follow
    the RFC drop the space between adjacent encoded-words, while the standard
    library's address parser (and some clients) keep it, so splitting a name
    would change it for one side or the other. Clients accept long words; only
    names over 600 bytes are split.
    """
    room = MAX_LINE - name_length - 2
    angle = f"<{spec}>"
    if not name:
        return spec
    if _PHRASE.fullmatch(name) and "=?" not in name:
        return fold([*name.split(" "), angle], room)
    if name.isascii() and name.isprintable() and "=?" not in name and len(name) < HARD_LINE // 2:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return fold([f'"{quoted}"', angle], room)
    if len(name.encode("utf-8")) <= _ONE_WORD_BYTES:
        return fold([encoded_word(name), angle], room)
    return fold([*encoded_words(name), angle], room)
