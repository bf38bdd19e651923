"""The outbound client: refused addresses, pinning, time and size caps, TLS, no redirects."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from clarion.outbound import (
    BlockedAddress,
    OutboundClient,
    OutboundFailed,
    OutboundPolicy,
    OutboundTimeout,
    ResponseTooLarge,
)
from tests.outbound.server import LocalCa, Recorded, Reply, VendorServer

LOCAL = OutboundPolicy.allowing("127.0.0.1")


def call(client: OutboundClient, method: str, url: str, **kwargs: Any) -> Any:
    async def run() -> Any:
        try:
            return await client.request(method, url, **kwargs)
        finally:
            await client.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "address"),
        ("224.0.0.1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    reason = OutboundPolicy().refuses(address)
    assert reason is not None and why in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert OutboundPolicy().refuses(address) is None


def test_an_allow_list_opens_a_network_but_never_the_metadata_service() -> None:
    policy = OutboundPolicy.allowing("127.0.0.1, 169.254.0.0/16")
    assert policy.refuses("127.0.0.1") is None
    assert policy.refuses("127.0.0.2") is not None
    assert policy.refuses("169.254.1.1") is None
    assert policy.refuses("169.254.169.254") == "a cloud metadata address"


def test_a_loopback_url_is_refused_without_the_allow_list() -> None:
    with VendorServer() as server:
        with pytest.raises(BlockedAddress, match="loopback"):
            call(OutboundClient(OutboundPolicy()), "GET", server.url)
        with pytest.raises(BlockedAddress):
            call(OutboundClient(OutboundPolicy()), "GET", f"http://localhost:{server.port}/")
        assert server.requests == []


def test_a_host_resolving_to_any_refused_address_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[tuple[str, int]]:
        return [("127.0.0.1", port), ("10.0.0.7", port)]

    with VendorServer() as server:
        client = OutboundClient(LOCAL, resolver=resolver)
        with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
            call(client, "GET", f"http://mixed.test:{server.port}/")
        assert server.requests == []


def test_the_checked_address_is_the_one_connected_to_and_is_resolved_once() -> None:
    asked: list[str] = []
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a rebinding DNS: the second answer is internal

    async def resolver(host: str, port: int) -> list[tuple[str, int]]:
        asked.append(host)
        return [(next(answers), port)]

    async def two_calls(client: OutboundClient, url: str) -> list[int]:
        try:
            first = await client.request("POST", url, content=b"one")
            second = await client.request("POST", url, content=b"two")
            return [first.status_code, second.status_code]
        finally:
            await client.aclose()

    with VendorServer(lambda r: Reply(201, {"ok": True})) as server:
        url = f"http://vendor.test:{server.port}/hook"
        statuses = asyncio.run(two_calls(OutboundClient(LOCAL, resolver=resolver), url))
        assert statuses == [201, 201]
        assert asked == ["vendor.test"]  # one lookup; the kept-alive connection is pinned
        assert [r.body for r in server.requests] == [b"one", b"two"]
        assert server.requests[0].headers["host"] == f"vendor.test:{server.port}"


def test_the_call_is_bounded_in_time() -> None:
    release = threading.Event()
    with VendorServer(lambda r: Reply(200, b"late", wait=release)) as server:
        client = OutboundClient(OutboundPolicy.allowing("127.0.0.1", timeout=0.3))
        try:
            with pytest.raises(OutboundTimeout):
                call(client, "GET", server.url)
        finally:
            release.set()


@pytest.mark.parametrize("chunked", [False, True])
def test_the_answer_is_bounded_in_size(chunked: bool) -> None:
    big = b"x" * 200_000
    headers = {"Transfer-Encoding": "chunked"} if chunked else {}

    def handler(_r: Recorded) -> Reply:
        if chunked:  # no Content-Length: the limit applies while reading
            size = f"{len(big):x}".encode()
            return Reply(200, size + b"\r\n" + big + b"\r\n0\r\n\r\n", headers)
        return Reply(200, big)

    with VendorServer(handler) as server:
        client = OutboundClient(OutboundPolicy.allowing("127.0.0.1", max_response_bytes=50_000))
        with pytest.raises(ResponseTooLarge):
            call(client, "GET", server.url)
        small = OutboundClient(LOCAL)
        assert len(call(small, "GET", server.url).content) == len(big)


def test_redirects_are_answers_not_followed() -> None:
    with VendorServer(lambda r: Reply(302, b"", {"Location": "http://169.254.169.254/"})) as srv:
        response = call(OutboundClient(LOCAL), "GET", srv.url)
        assert response.status_code == 302 and len(srv.requests) == 1


def test_a_refused_connection_is_a_transient_failure() -> None:
    with VendorServer() as server:
        port = server.port
    with pytest.raises(OutboundFailed) as failed:
        call(OutboundClient(LOCAL), "GET", f"http://127.0.0.1:{port}/")
    assert failed.value.transient


def test_proxies_from_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with VendorServer() as server:
        assert call(OutboundClient(LOCAL), "GET", server.url).status_code == 200


def test_tls_verifies_the_host_name_of_the_pinned_address(tmp_path: Path) -> None:
    ca = LocalCa.create()

    async def resolver(host: str, port: int) -> list[tuple[str, int]]:
        return [("127.0.0.1", server.port)]

    with VendorServer(tls=ca.server_context("api.vendor.test", tmp_path)) as server:
        trusted = OutboundClient(LOCAL, resolver=resolver, verify=ca.client_context())
        response = call(trusted, "POST", "https://api.vendor.test/v1", json_body={"a": 1})
        assert response.status_code == 200 and server.requests[0].json() == {"a": 1}
        wrong_name = OutboundClient(LOCAL, resolver=resolver, verify=ca.client_context())
        with pytest.raises(OutboundFailed):
            call(wrong_name, "GET", "https://other.vendor.test/")
        untrusted = OutboundClient(LOCAL, resolver=resolver)
        with pytest.raises(OutboundFailed):
            call(untrusted, "GET", "https://api.vendor.test/")
