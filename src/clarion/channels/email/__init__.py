"""The email wire path: MIME assembly, DKIM signing and the SMTP provider.

mime          build_message(RenderedEmail, date=...) -> WireMessage (bytes + envelope)
dkim          DkimSigner (RSA-SHA256, Ed25519-SHA256; relaxed/relaxed)
dkim_keys     generate_dkim_key, load_private_key, DkimKey (DNS TXT record)
smtp          SmtpProvider, smtp_provider_from_url (aiosmtplib, pooled connections)
smtp_settings SmtpSettings, parse_smtp_url (`smtp://user:pass@host:port?...`)
replies       how SMTP replies and failures become SendResults
"""

from clarion.channels.email.addresses import Mailbox, parse_mailbox
from clarion.channels.email.dkim import DEFAULT_SIGNED_HEADERS, DkimSigner
from clarion.channels.email.dkim_keys import DkimKey, generate_dkim_key, load_private_key
from clarion.channels.email.errors import (
    EmailError,
    InvalidAddress,
    InvalidDkimKey,
    InvalidHeader,
    InvalidSmtpUrl,
)
from clarion.channels.email.mime import WireMessage, build_message
from clarion.channels.email.smtp import SmtpProvider, smtp_provider_from_url
from clarion.channels.email.smtp_settings import SmtpSettings, parse_smtp_url

__all__ = [
    "DEFAULT_SIGNED_HEADERS",
    "DkimKey",
    "DkimSigner",
    "EmailError",
    "InvalidAddress",
    "InvalidDkimKey",
    "InvalidHeader",
    "InvalidSmtpUrl",
    "Mailbox",
    "SmtpProvider",
    "SmtpSettings",
    "WireMessage",
    "build_message",
    "generate_dkim_key",
    "load_private_key",
    "parse_mailbox",
    "parse_smtp_url",
    "smtp_provider_from_url",
]
