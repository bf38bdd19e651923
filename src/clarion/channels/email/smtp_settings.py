"""SMTP settings and the URL that carries them (`CLARION_SMTP_URL`).

    smtp://user:pass@host:port            plain SMTP (port 25 by default)
    smtp://host:587?starttls=true         upgrade with STARTTLS (required, not opportunistic)
    smtps://user:pass@host                implicit TLS (port 465 by default)

Query parameters: `from` (the From used when a message has none), `envelope_from`
(MAIL FROM / bounce address; default: the message's From address), `pool`
(connections, default 4), `timeout` (seconds per connect and per message,
default 30), `verify` (`false` accepts any server certificate; for testing
only), `cafile` (a CA bundle to trust), `helo` (the name given in EHLO),
`message_id_domain` (the right-hand side of Message-IDs; default: the From
domain). User and password are percent-decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from clarion.channels.email.errors import InvalidSmtpUrl

TlsMode = Literal["none", "starttls", "implicit"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_PARAMS = {"starttls", "from", "envelope_from", "pool", "timeout", "verify", "cafile", "helo",
           "message_id_domain"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to submit mail by SMTP."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsMode = "none"
    default_sender: str | None = None
    envelope_from: str | None = None
    pool_size: int = 4
    timeout: float = 30.0
    verify_tls: bool = True
    ca_file: str | None = None
    helo: str | None = None
    message_id_domain: str | None = None

    def redacted_url(self) -> str:
        """The settings as a URL without the password, for logs and the API."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        user = f"{quote(self.username, safe='')}:***@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "?starttls=true" if self.tls == "starttls" else ""
        return f"{scheme}://{user}{host}:{self.port}{query}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read `smtp://` / `smtps://` URLs; raises `InvalidSmtpUrl` naming what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise InvalidSmtpUrl("the SMTP URL must start with smtp:// or smtps://", field="url")
    if not parts.hostname:
        raise InvalidSmtpUrl("the SMTP URL has no host", field="url")
    try:
        explicit_port = parts.port
    except ValueError as exc:
        raise InvalidSmtpUrl(f"invalid port in the SMTP URL: {exc}", field="url") from exc
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _PARAMS:
            raise InvalidSmtpUrl(f"unknown SMTP URL parameter {key!r}", field=key)
        if key in params:
            raise InvalidSmtpUrl(f"SMTP URL parameter {key!r} given twice", field=key)
        params[key] = value
    tls: TlsMode = "implicit" if parts.scheme == "smtps" else "none"
    if _flag(params, "starttls", False):
        if tls == "implicit":
            raise InvalidSmtpUrl("smtps:// is already TLS; drop ?starttls", field="starttls")
        tls = "starttls"
    default_port = {"implicit": 465, "starttls": 587, "none": 25}[tls]
    return SmtpSettings(
        host=parts.hostname,
        port=explicit_port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=tls,
        default_sender=params.get("from") or None,
        envelope_from=params.get("envelope_from") or None,
        pool_size=int(_number(params, "pool", 4, minimum=1, maximum=100)),
        timeout=_number(params, "timeout", 30.0, minimum=0.001, maximum=3600),
        verify_tls=_flag(params, "verify", True),
        ca_file=params.get("cafile") or None,
        helo=params.get("helo") or None,
        message_id_domain=params.get("message_id_domain") or None,
    )


def _flag(params: dict[str, str], key: str, default: bool) -> bool:
    value = params.get(key)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidSmtpUrl(f"?{key}= takes true or false, not {value!r}", field=key)


def _number(
    params: dict[str, str], key: str, default: float, *, minimum: float, maximum: float
) -> float:
    raw = params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw) if key == "pool" else float(raw)
    except ValueError:
        raise InvalidSmtpUrl(f"?{key}= takes a number, not {raw!r}", field=key) from None
    if not minimum <= value <= maximum:
        raise InvalidSmtpUrl(f"?{key}= must be between {minimum} and {maximum}", field=key)
    return value
