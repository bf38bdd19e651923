"""Outbound HTTP: the one client for vendor calls, webhooks and custom actions.

`OutboundClient(policy).request(...)` refuses loopback, private, link-local and
metadata addresses unless the `OutboundPolicy` allow-lists them, pins the
address it resolved, and caps time and response size.
"""

from clarion.outbound.client import (
    Outbound,
    OutboundClient,
    OutboundResponse,
    Resolver,
    system_resolver,
)
from clarion.outbound.errors import (
    BlockedAddress,
    OutboundError,
    OutboundFailed,
    OutboundTimeout,
    ResponseTooLarge,
)
from clarion.outbound.policy import OutboundPolicy, parse_networks

__all__ = [
    "BlockedAddress",
    "Outbound",
    "OutboundClient",
    "OutboundError",
    "OutboundFailed",
    "OutboundPolicy",
    "OutboundResponse",
    "OutboundTimeout",
    "Resolver",
    "ResponseTooLarge",
    "parse_networks",
    "system_resolver",
]
