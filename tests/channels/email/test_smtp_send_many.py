"""`SmtpProvider.send_many`: a batch carried back to back on the pool's connections.

Each message's content goes out with the next message's envelope (PIPELINING),
so these tests check that every message still gets its own answer: refusals,
a server closing with 421 after a message, a hang-up while an envelope is
pending, and servers without PIPELINING.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import dkim
from aiosmtpd.smtp import SMTP

from clarion.channels.base import SendResult, SendStatus
from clarion.channels.email import DkimSigner, SmtpProvider, generate_dkim_key
from tests.channels.email.servers import Recorder, RunningServer, smtp_server
from tests.channels.email.test_smtp_provider import message, parse, with_provider

COUNT = 30


def send_batch(recorder: Recorder, pool: int = 3) -> tuple[list[SendResult], int]:
    """Send messages 0..COUNT-1 in one `send_many`; the answers and the connections opened."""

    async def run() -> tuple[list[SendResult], int]:
        async with smtp_server(recorder) as server:

            async def body(provider: SmtpProvider) -> list[SendResult]:
                return await provider.send_many([message(n) for n in range(COUNT)])

            url = f"smtp://127.0.0.1:{server.port}?pool={pool}"
            results = await with_provider(url, body)
            return results, len(server.connections)

    return asyncio.run(run())


def arrived(recorder: Recorder) -> list[str]:
    return sorted(m.rcpt_tos[0] for m in recorder.messages)


def everyone_but(*missing: int) -> list[str]:
    return sorted(f"bob{n}@example.org" for n in range(COUNT) if n not in missing)


def test_a_batch_arrives_once_each_over_the_pool_with_answers_in_order() -> None:
    recorder = Recorder()
    results, connections = send_batch(recorder)
    assert [r.status for r in results] == [SendStatus.SENT] * COUNT
    assert [r.provider_message_id for r in results] == [
        f"<msg_{n:032x}@example.com>" for n in range(COUNT)
    ]
    assert arrived(recorder) == everyone_but()
    assert connections == 3
    for received in recorder.messages:  # every message whole, its own Message-ID
        n = int(received.rcpt_tos[0].removeprefix("bob").split("@")[0])
        assert parse(received.data)["Message-ID"] == f"<msg_{n:032x}@example.com>"
        assert f"Hello Bob {n}," in parse(received.data).get_body(("plain",)).get_content()


def test_a_refused_recipient_fails_alone_and_the_rest_go_on() -> None:
    recorder = Recorder()

    async def refuse(address: str) -> str | None:
        return (
            "550 5.1.1 no such user"
            if address in ("bob7@example.org", "bob8@example.org")
            else None
        )

    recorder.on_rcpt = refuse
    results, _ = send_batch(recorder)
    for n in (7, 8):
        assert results[n].status is SendStatus.PERMANENT
        assert "550" in (results[n].error or "") and "rcpt" in (results[n].error or "")
    assert all(r.status is SendStatus.SENT for n, r in enumerate(results) if n not in (7, 8))
    assert arrived(recorder) == everyone_but(7, 8)


def test_a_refused_message_content_fails_alone() -> None:
    recorder = Recorder()

    async def refuse(envelope: Any) -> str | None:
        return "554 5.7.1 spam" if envelope.rcpt_tos == ["bob4@example.org"] else None

    recorder.on_data = refuse
    results, _ = send_batch(recorder, pool=1)
    assert results[4].status is SendStatus.PERMANENT and "554" in (results[4].error or "")
    assert all(r.status is SendStatus.SENT for n, r in enumerate(results) if n != 4)
    assert arrived(recorder) == everyone_but(4)


def test_a_421_after_a_message_ends_the_connection_and_the_next_goes_on_a_new_one() -> None:
    recorder = Recorder()

    async def closing(envelope: Any) -> str | None:
        return "421 4.3.2 shutting down" if envelope.rcpt_tos == ["bob5@example.org"] else None

    recorder.on_data = closing
    results, connections = send_batch(recorder, pool=1)
    assert results[5].status is SendStatus.TRANSIENT and "421" in (results[5].error or "")
    assert all(r.status is SendStatus.SENT for n, r in enumerate(results) if n != 5)
    assert arrived(recorder) == everyone_but(5)  # bob6's envelope went out: not delivered twice
    assert connections == 2


def test_a_hang_up_while_an_envelope_waits_resends_it_on_a_new_connection() -> None:
    recorder = Recorder()
    mails = 0

    async def hang_up_once(server: SMTP) -> str | None:
        nonlocal mails
        mails += 1
        if mails == 10 and server.transport is not None:
            server.transport.close()  # before answering MAIL: nothing of it was delivered
            return "421 4.3.2 gone"
        return None

    recorder.on_mail = hang_up_once
    results, connections = send_batch(recorder, pool=1)
    assert [r.status for r in results] == [SendStatus.SENT] * COUNT
    assert arrived(recorder) == everyone_but()  # each once
    assert connections == 2


def test_without_pipelining_each_message_goes_alone() -> None:
    recorder = Recorder(pipelining=False)
    results, _ = send_batch(recorder, pool=2)
    assert [r.status for r in results] == [SendStatus.SENT] * COUNT
    assert arrived(recorder) == everyone_but()


def test_an_unreachable_server_answers_every_message_transient() -> None:
    async def run(server: RunningServer | None = None) -> list[SendResult]:
        async with smtp_server(Recorder()) as server:
            port = server.port
        return await with_provider(  # the port is closed now
            f"smtp://127.0.0.1:{port}?pool=2&timeout=5",
            lambda p: p.send_many([message(n) for n in range(5)]),
        )

    results = asyncio.run(run())
    assert [r.status for r in results] == [SendStatus.TRANSIENT] * 5
    assert all("connect" in (r.error or "") for r in results)


def test_a_stalled_message_times_out_alone_and_the_rest_go_on() -> None:
    recorder = Recorder()
    never = asyncio.Event()

    async def stall(envelope: Any) -> str | None:
        if envelope.rcpt_tos == ["bob3@example.org"]:
            await never.wait()  # the client's timeout ends this
        return None

    recorder.on_data = stall

    async def run() -> list[SendResult]:
        async with smtp_server(recorder) as server:
            return await with_provider(
                f"smtp://127.0.0.1:{server.port}?pool=1&timeout=0.3",
                lambda p: p.send_many([message(n) for n in range(8)]),
            )

    results = asyncio.run(run())
    assert results[3].status is SendStatus.TRANSIENT and "timeout" in (results[3].error or "")
    assert all(r.status is SendStatus.SENT for n, r in enumerate(results) if n != 3)
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == sorted(
        f"bob{n}@example.org" for n in range(8) if n != 3
    )


def test_a_large_dkim_batch_is_signed_by_every_signer_and_answered_in_order() -> None:
    """Two signers (RSA and Ed25519) and bad messages in the middle of a batch: each
    good message arrives once with both signatures verifying, the fields in the
    order `build` gives, and the bad ones fail alone."""
    keys = {"rsa1": generate_dkim_key("rsa"), "ed1": generate_dkim_key("ed25519")}
    signers = [
        DkimSigner(domain="example.com", selector=s, private_key=k.private_pem)
        for s, k in keys.items()
    ]
    count, bad_address, no_email = 75, 33, 64
    batch = [message(n) for n in range(count)]
    assert batch[bad_address].email is not None
    batch[bad_address] = dataclasses.replace(
        batch[bad_address], email=dataclasses.replace(batch[bad_address].email, to="not an address")
    )
    batch[no_email] = dataclasses.replace(batch[no_email], email=None)
    recorder = Recorder()

    async def run() -> list[SendResult]:
        async with smtp_server(recorder) as server:
            url = f"smtp://127.0.0.1:{server.port}?pool=4"
            return await with_provider(url, lambda p: p.send_many(batch), dkim=signers)

    results = asyncio.run(run())
    good = [n for n in range(count) if n not in (bad_address, no_email)]
    assert [r.status for n, r in enumerate(results) if n in good] == [SendStatus.SENT] * len(good)
    assert results[bad_address].status is SendStatus.PERMANENT
    assert "cannot build the email" in (results[bad_address].error or "")
    assert results[no_email].status is SendStatus.PERMANENT
    assert [r.provider_message_id for n, r in enumerate(results) if n in good] == [
        f"<msg_{n:032x}@example.com>" for n in good
    ]
    assert sorted(m.rcpt_tos[0] for m in recorder.messages) == sorted(
        f"bob{n}@example.org" for n in good
    )

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        selector = name.decode().split(".", 1)[0]
        return keys[selector].dns_record.encode()

    for received in recorder.messages:
        # the last signer's field on top, as `SmtpProvider.build` writes them
        assert received.data.startswith(b"DKIM-Signature: v=1; a=ed25519-sha256;")
        assert dkim.verify(received.data, dnsfunc=dnsfunc)  # the top (Ed25519) signature
        rsa_only = received.data[received.data.index(b"DKIM-Signature:", 10) :]
        assert rsa_only.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
        assert dkim.verify(rsa_only, dnsfunc=dnsfunc)
        n = int(received.rcpt_tos[0].removeprefix("bob").split("@")[0])
        assert parse(received.data)["Message-ID"] == f"<msg_{n:032x}@example.com>"
