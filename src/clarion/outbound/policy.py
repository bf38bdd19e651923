"""Which addresses outbound calls may reach.

Every address that is not globally routable is refused: loopback, private
(RFC 1918, unique-local), link-local (and so the 169.254.169.254 metadata
service), carrier-grade NAT, multicast, reserved and unspecified ranges, plus
the cloud metadata addresses that are not link-local. An operator allow-lists
networks explicitly (tests allow 127.0.0.1). IPv4-mapped IPv6 addresses are
judged as the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
"""Cloud metadata services (AWS, ECS, Alibaba, AWS IPv6): refused even if a range is allowed."""


def parse_networks(items: Iterable[str] | str) -> tuple[IpNetwork, ...]:
    """Networks from `"127.0.0.1, 10.0.0.0/8"` or a list of such strings."""
    if isinstance(items, str):
        items = items.split(",")
    return tuple(ipaddress.ip_network(i.strip(), strict=False) for i in items if i.strip())


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Limits of every outbound call."""

    allow: tuple[IpNetwork, ...] = ()
    """Networks reachable although not global (operator's choice)."""
    timeout: float = 10.0
    """Seconds for the whole call: connect, send, and read the answer."""
    connect_timeout: float = 5.0
    max_response_bytes: int = 1_048_576
    max_connections: int = 100
    extra_blocked: tuple[IpNetwork, ...] = field(default=())

    @classmethod
    def allowing(cls, allow: Iterable[str] | str = (), **limits: float) -> OutboundPolicy:
        return cls(allow=parse_networks(allow), **limits)  # type: ignore[arg-type]

    def refuses(self, address: str) -> str | None:
        """Why `address` (an IP) may not be reached, or None if it may."""
        ip: IpAddress = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if any(ip in net for net in self.extra_blocked):
            return "a blocked network"
        if any(ip in net for net in self.allow):
            return None
        if not ip.is_global or ip.is_multicast:
            for name in ("loopback", "link_local", "multicast", "private", "reserved"):
                if getattr(ip, f"is_{name}"):
                    return f"a {name.replace('_', '-')} address"
            return "not a public address"
        return None
