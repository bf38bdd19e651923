"""Errors of outbound HTTP calls.

OutboundError
 ├── BlockedAddress     the host resolves to a refused address (loopback, private, metadata, ...)
 ├── OutboundTimeout    the call took longer than allowed (connect, read or in total)
 ├── ResponseTooLarge   the answer is bigger than allowed
 └── OutboundFailed     no answer: DNS failure, refused or dropped connection, TLS error
"""

from __future__ import annotations


class OutboundError(Exception):
    """An outbound call that did not produce a response."""

    transient = True
    """Worth trying again later (a refused address or an oversized answer is not)."""


class BlockedAddress(OutboundError):
    transient = False


class OutboundTimeout(OutboundError):
    pass


class ResponseTooLarge(OutboundError):
    transient = False


class OutboundFailed(OutboundError):
    pass
