"""The SMTP provider against a real SMTP server: delivery, TLS, AUTH, DKIM, pooling."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import dkim
import pytest

from clarion.channels.base import Provider, RenderedEmail, RenderedMessage, SendResult, SendStatus
from clarion.channels.email import (
    DkimSigner,
    SmtpProvider,
    generate_dkim_key,
    smtp_provider_from_url,
)
from clarion.testing import FakeClock
from tests.channels.email.servers import (
    Recorder,
    RunningServer,
    self_signed_certificate,
    server_tls_context,
    smtp_server,
)

T = TypeVar("T")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def message(n: int = 0, **changes: Any) -> RenderedMessage:
    fields: dict[str, Any] = {
        "message_id": f"msg_{n:032x}",
        "sender": "Shop Zoë <shop@example.com>",
        "to": f"bob{n}@example.org",
        "subject": f"Zoë, your cart is waiting 🛒 #{n}",
        "html": f"<p>Hello Bob {n}, <a href='https://shop.example.com/c/{n}'>your cart</a></p>",
        "text": f"Hello Bob {n}, your cart: https://shop.example.com/c/{n}\n",
        "headers": (
            ("List-Unsubscribe", f"<https://shop.example.com/u/{n}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    }
    fields.update(changes)
    rendered = RenderedEmail(**fields)
    return RenderedMessage(
        message_id=rendered.message_id, workspace_id="ws_1", channel="email", to=rendered.to,
        fields={"subject": rendered.subject}, email=rendered,
    )  # fmt: skip


def parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def with_provider(url: str, body: Callable[[SmtpProvider], Awaitable[T]], **kwargs: Any) -> T:
    provider = smtp_provider_from_url(url, clock=FakeClock(START), **kwargs)
    try:
        return await body(provider)
    finally:
        await provider.close()


def test_provider_satisfies_the_protocol() -> None:
    provider: Provider = smtp_provider_from_url("smtp://127.0.0.1:2525")
    assert (provider.name, provider.channel) == ("smtp", "email")


def test_message_arrives_and_parses_with_headers_and_parts() -> None:
    recorder = Recorder()

    async def main() -> SendResult:
        async with smtp_server(recorder) as server:
            url = f"smtp://127.0.0.1:{server.port}"
            return await with_provider(url, lambda p: p.send(message(7)))

    result = asyncio.run(main())
    assert result.status is SendStatus.SENT
    assert result.provider_message_id == f"<msg_{7:032x}@example.com>"
    assert result.details["smtp_code"] == 250
    (received,) = recorder.messages
    assert (received.mail_from, received.rcpt_tos) == ("shop@example.com", ["bob7@example.org"])
    parsed = parse(received.data)
    assert parsed["Subject"] == "Zoë, your cart is waiting 🛒 #7"
    assert parsed["From"].addresses[0].display_name == "Shop Zoë"
    assert parsed["To"] == "bob7@example.org"
    assert parsed["Message-ID"] == result.provider_message_id
    assert parsed["Date"].datetime == START
    assert parsed["List-Unsubscribe"] == "<https://shop.example.com/u/7>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, html = parsed.iter_parts()
    assert plain.get_content() == "Hello Bob 7, your cart: https://shop.example.com/c/7\r\n"
    assert "href='https://shop.example.com/c/7'" in html.get_content()


@pytest.mark.parametrize("algorithm", ["rsa", "ed25519"])
def test_dkim_signed_mail_verifies_with_dkimpy_after_delivery(algorithm: str) -> None:
    key = generate_dkim_key(algorithm)  # type: ignore[arg-type]
    signer = DkimSigner(domain="example.com", selector="mail", private_key=key.private_pem)
    recorder = Recorder()
    long_text = "Ünïcödé line with trailing spaces   \n" * 500 + "x" * 5000

    async def main() -> SendResult:
        async with smtp_server(recorder) as server:
            url = f"smtp://127.0.0.1:{server.port}"
            return await with_provider(
                url, lambda p: p.send(message(1, text=long_text)), dkim=signer
            )

    assert asyncio.run(main()).status is SendStatus.SENT
    (received,) = recorder.messages

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.example.com."
        return key.dns_record.encode()

    assert received.data.startswith(b"DKIM-Signature:")
    assert f"t={int(START.timestamp())};".encode() in received.data
    assert dkim.verify(received.data, dnsfunc=dnsfunc)
    assert parse(received.data)["Subject"] == "Zoë, your cart is waiting 🛒 #1"


def test_auth_with_user_and_password() -> None:
    recorder = Recorder()

    async def main() -> tuple[SendResult, SendResult]:
        async with smtp_server(recorder, credentials=("mailer", "s3cr:t/pw")) as server:
            good = f"smtp://mailer:s3cr%3At%2Fpw@127.0.0.1:{server.port}"
            bad = f"smtp://mailer:wrong@127.0.0.1:{server.port}"
            ok = await with_provider(good, lambda p: p.send(message(1)))
            refused = await with_provider(bad, lambda p: p.send(message(2)))
            return ok, refused

    ok, refused = asyncio.run(main())
    assert ok.status is SendStatus.SENT
    assert refused.status is SendStatus.PERMANENT
    assert refused.details["stage"] == "connect"
    assert refused.details["smtp_code"] == 535
    assert [(m.rcpt_tos, m.authenticated) for m in recorder.messages] == [
        (["bob1@example.org"], True)
    ]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_with_auth_delivers(mode: str, certificate: tuple[Path, Path]) -> None:
    cert_path, key_path = certificate
    recorder = Recorder()
    tls = server_tls_context(cert_path, key_path)

    async def main() -> SendResult:
        async with smtp_server(
            recorder, tls=tls, implicit_tls=mode == "implicit", credentials=("u", "p")
        ) as server:
            scheme, query = ("smtps", "") if mode == "implicit" else ("smtp", "&starttls=true")
            url = f"{scheme}://u:p@127.0.0.1:{server.port}?cafile={cert_path}{query}"
            return await with_provider(url, lambda p: p.send(message(3)))

    assert asyncio.run(main()).status is SendStatus.SENT
    (received,) = recorder.messages
    assert received.encrypted
    assert received.authenticated
    assert parse(received.data)["To"] == "bob3@example.org"


def test_tls_refuses_an_untrusted_certificate(certificate: tuple[Path, Path]) -> None:
    recorder = Recorder()

    async def main() -> SendResult:
        async with smtp_server(
            recorder, tls=server_tls_context(*certificate), implicit_tls=True
        ) as server:
            return await with_provider(
                f"smtps://127.0.0.1:{server.port}", lambda p: p.send(message())
            )

    result = asyncio.run(main())
    assert result.status is SendStatus.TRANSIENT
    assert result.details["stage"] == "connect"
    assert recorder.messages == []


def test_verify_false_accepts_a_self_signed_certificate_and_helo_is_sent(
    certificate: tuple[Path, Path],
) -> None:
    recorder = Recorder()

    async def main() -> SendResult:
        tls = server_tls_context(*certificate)
        async with smtp_server(recorder, tls=tls, implicit_tls=True) as server:
            url = f"smtps://127.0.0.1:{server.port}?verify=false&helo=mx.clarion.example"
            return await with_provider(url, lambda p: p.send(message()))

    assert asyncio.run(main()).status is SendStatus.SENT
    (received,) = recorder.messages
    assert (received.encrypted, received.helo) == (True, "mx.clarion.example")


def test_envelope_sender_and_default_from_come_from_the_url() -> None:
    recorder = Recorder()

    async def main() -> SendResult:
        async with smtp_server(recorder) as server:
            url = (
                f"smtp://127.0.0.1:{server.port}?envelope_from=bounces%40example.com"
                "&from=News%20%3Cnews%40example.com%3E"
            )
            return await with_provider(url, lambda p: p.send(message(1, sender="")))

    assert asyncio.run(main()).status is SendStatus.SENT
    (received,) = recorder.messages
    assert received.mail_from == "bounces@example.com"
    assert parse(received.data)["From"] == "News <news@example.com>"


def test_sends_run_concurrently_over_the_pool() -> None:
    pool = 3
    recorder = Recorder()
    in_flight = 0
    all_in = asyncio.Event()

    async def hold_until_all_arrive(envelope: Any) -> None:
        nonlocal in_flight
        in_flight += 1
        if in_flight == pool:
            all_in.set()
        async with asyncio.timeout(10):  # only a broken pool (serial sends) waits this long
            await all_in.wait()
        return None

    recorder.on_data = hold_until_all_arrive

    async def main(server: RunningServer, provider: SmtpProvider) -> list[SendResult]:
        first = await asyncio.gather(*(provider.send(message(n)) for n in range(pool)))
        rest = await asyncio.gather(*(provider.send(message(n)) for n in range(pool, 4 * pool)))
        return [*first, *rest]

    async def run() -> tuple[list[SendResult], int]:
        async with smtp_server(recorder) as server:
            url = f"smtp://127.0.0.1:{server.port}?pool={pool}"
            results = await with_provider(url, lambda p: main(server, p))
            return results, len(server.connections)

    results, connections = asyncio.run(run())
    assert [r.status for r in results] == [SendStatus.SENT] * (4 * pool)
    assert connections == pool  # opened once each, then reused
    assert len({m.peer for m in recorder.messages}) == pool
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == sorted(
        f"bob{n}@example.org" for n in range(4 * pool)
    )


def test_bad_messages_are_permanent_and_never_reach_the_server() -> None:
    recorder = Recorder()
    no_email = RenderedMessage(
        message_id="msg_1", workspace_id="ws_1", channel="email", to="x@example.com", fields={}
    )

    async def main() -> list[SendResult]:
        async with smtp_server(recorder) as server:

            async def body(p: SmtpProvider) -> list[SendResult]:
                return [
                    await p.send(no_email),
                    await p.send(message(1, to="jörg@example.com")),
                    await p.send(message(2, headers=(("Bcc", "spy@example.com"),))),
                ]

            return await with_provider(f"smtp://127.0.0.1:{server.port}", body)

    results = asyncio.run(main())
    assert [r.status for r in results] == [SendStatus.PERMANENT] * 3
    assert "SMTPUTF8" in (results[1].error or "")
    assert recorder.messages == []


def test_closed_provider_answers_transient_and_quits_its_connections() -> None:
    recorder = Recorder()

    async def main() -> tuple[SendResult, SendResult, list[bool]]:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}")
            sent = await provider.send(message(1))
            await provider.close()
            after = await provider.send(message(2))
            open_server_side = [c.transport is not None for c in server.connections]
            return sent, after, open_server_side

    sent, after, open_server_side = asyncio.run(main())
    assert sent.status is SendStatus.SENT
    assert after.status is SendStatus.TRANSIENT
    assert after.error == "the SMTP provider is closed"
    assert open_server_side == [False]


def test_close_waits_for_sends_in_flight_and_refuses_those_still_queued() -> None:
    recorder = Recorder()
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hold(envelope: Any) -> None:
        arrived.set()
        await release.wait()
        return None

    recorder.on_data = hold

    async def main() -> tuple[SendResult, SendResult]:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}?pool=1")
            in_flight = asyncio.create_task(provider.send(message(1)))
            await arrived.wait()
            queued = asyncio.create_task(provider.send(message(2)))  # waits for the one slot
            closing = asyncio.create_task(provider.close())
            release.set()  # both tasks wait for the slot before the 250 can come back
            first, second = await in_flight, await queued
            await closing
            return first, second

    first, second = asyncio.run(main())
    assert first.status is SendStatus.SENT
    assert (second.status, second.error) == (SendStatus.TRANSIENT, "the SMTP provider is closed")
    assert [m.rcpt_tos for m in recorder.messages] == [["bob1@example.org"]]
