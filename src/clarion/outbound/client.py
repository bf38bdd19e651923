"""The one HTTP client for calls leaving Clarion: vendors, webhooks, custom actions.

Built on httpx with a network backend that resolves each host once, refuses the
connection unless every resolved address is allowed by the `OutboundPolicy`,
and connects to exactly the address it checked (no second lookup a DNS
rebinding could answer differently). TLS still verifies the certificate against
the host name. Proxies from the environment are ignored, redirects are not
followed, the whole call is bounded in time and the answer in size.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from clarion.outbound.errors import (
    BlockedAddress,
    OutboundFailed,
    OutboundTimeout,
    ResponseTooLarge,
)
from clarion.outbound.policy import OutboundPolicy

Resolver = Callable[[str, int], Awaitable[list[tuple[str, int]]]]
"""(host, port) -> the (address, port) pairs to try."""


async def system_resolver(host: str, port: int) -> list[tuple[str, int]]:
    """The operating system's resolver (getaddrinfo), TCP addresses only."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundFailed(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys((str(info[4][0]), int(info[4][1])) for info in infos))


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, and connects to the checked address."""

    def __init__(self, policy: OutboundPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        targets = await self._resolver(host, port)
        if not targets:
            raise OutboundFailed(f"{host} has no address")
        for address, _port in targets:
            reason = self._policy.refuses(address)
            if reason is not None:
                raise BlockedAddress(f"{host} resolves to {address}, {reason}")
        last: Exception | None = None
        for address, target_port in targets:
            try:
                return await self._inner.connect_tcp(
                    address, target_port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are not reachable")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(
        self,
        policy: OutboundPolicy,
        resolver: Resolver,
        verify: ssl.SSLContext | bool,
        http1: bool,
        http2: bool,
    ) -> None:
        super().__init__(verify=verify, trust_env=False, http1=http1, http2=http2)
        context = verify if isinstance(verify, ssl.SSLContext) else None
        if context is None:
            context = httpx.create_ssl_context(verify=verify, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=policy.max_connections,
            max_keepalive_connections=min(20, policy.max_connections),
            keepalive_expiry=30.0,
            http1=http1,
            http2=http2,
            network_backend=_PinnedBackend(policy, resolver),
        )


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    """A complete (size-capped) answer."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    http_version: str = "HTTP/1.1"

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class OutboundClient:
    """Makes policy-bound HTTP calls; one per provider, closed with `aclose`."""

    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        *,
        http2: bool = False,
        http1: bool = True,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.policy = policy or OutboundPolicy()
        # http1=False, http2=True: HTTP/2 only (APNs), prior knowledge on cleartext.
        transport = _Transport(self.policy, resolver or system_resolver, verify, http1, http2)
        self._client = httpx.AsyncClient(
            transport=transport,
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout, connect=self.policy.connect_timeout),
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        max_bytes: int | None = None,
    ) -> OutboundResponse:
        """Send one request; raises an `OutboundError` when no full answer arrives."""
        limit = max_bytes if max_bytes is not None else self.policy.max_response_bytes
        total = timeout if timeout is not None else self.policy.timeout
        try:
            async with asyncio.timeout(total):
                return await self._request(
                    method, url, headers, content, data, json_body, auth, limit
                )
        except TimeoutError as exc:
            raise OutboundTimeout(f"{method} {_origin(url)} took longer than {total} s") from exc
        except httpx.TimeoutException as exc:
            raise OutboundTimeout(f"{method} {_origin(url)} timed out: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise OutboundFailed(f"{method} {_origin(url)} failed: {exc!r}") from exc

    async def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | str | None,
        data: Mapping[str, Any] | None,
        json_body: Any,
        auth: tuple[str, str] | None,
        limit: int,
    ) -> OutboundResponse:
        request = self._client.build_request(
            method, url, headers=headers, content=content, data=data, json=json_body
        )
        response = await self._client.send(
            request, stream=True, auth=httpx.BasicAuth(*auth) if auth else None
        )
        try:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(f"the answer declares {declared} bytes (limit {limit})")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise ResponseTooLarge(f"the answer exceeds {limit} bytes")
        finally:
            await response.aclose()
        return OutboundResponse(
            response.status_code, response.headers, bytes(body), response.http_version
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid url>"
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


@dataclass
class Outbound:
    """Makes outbound clients under one policy (the server's), for providers and webhooks.

    Tests may set `resolver` (to point a vendor's host name at a local server)
    and `verify` (to trust a local certificate authority) before first use.
    """

    policy: OutboundPolicy
    resolver: Resolver | None = None
    verify: ssl.SSLContext | bool = True

    def client(self, *, http1: bool = True, http2: bool = False) -> OutboundClient:
        return OutboundClient(
            self.policy, http1=http1, http2=http2, resolver=self.resolver, verify=self.verify
        )
