"""Errors of the email wire path.

    ClarionError (clarion.model.errors)
    └── InvalidInput
        └── EmailError
            ├── InvalidAddress    an address that cannot go on the wire (no @, needs SMTPUTF8)
            ├── InvalidHeader     a header name or value that cannot be written safely
            ├── InvalidSmtpUrl    a malformed `smtp://` / `smtps://` configuration URL
            └── InvalidDkimKey    a DKIM key that cannot be loaded or has an unsupported type

The SMTP provider never raises these from `send`: a message it cannot build
becomes a PERMANENT `SendResult` naming the error. Configuration errors
(`InvalidSmtpUrl`, `InvalidDkimKey`) are raised when the provider is built.
"""

from __future__ import annotations

from clarion.model.errors import InvalidInput


class EmailError(InvalidInput):
    """Base of the email package's errors."""


class InvalidAddress(EmailError):
    """An email address that cannot be written into a header or an SMTP envelope."""


class InvalidHeader(EmailError):
    """A header name or value that would break the message or inject other headers."""


class InvalidSmtpUrl(EmailError):
    """The SMTP configuration URL cannot be understood."""


class InvalidDkimKey(EmailError):
    """The DKIM private key cannot be loaded, or its algorithm is not supported."""
