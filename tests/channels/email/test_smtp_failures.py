"""SMTP refusals and outages become SendResults; dropped connections are re-established."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from clarion.channels.base import SendResult, SendStatus
from clarion.channels.email import smtp_provider_from_url
from clarion.testing import FakeClock
from tests.channels.email.servers import Recorder, free_port_with_nobody_listening, smtp_server
from tests.channels.email.test_smtp_provider import message


@pytest.fixture(params=[True, False], ids=["pipelined", "one-at-a-time"])
def pipelining(request: pytest.FixtureRequest) -> bool:
    """Run a test against a server that offers PIPELINING and one that does not."""
    return bool(request.param)


def refuse_rcpt(reply: str, pipelining: bool) -> Recorder:
    recorder = Recorder(pipelining=pipelining)

    async def on_rcpt(address: str) -> str | None:
        return reply if address.startswith("bob1@") else None

    recorder.on_rcpt = on_rcpt
    return recorder


def send_two(recorder: Recorder) -> tuple[SendResult, SendResult, int]:
    """Send message 1 then message 2 over a one-connection pool; count connections."""

    async def main() -> tuple[SendResult, SendResult, int]:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}?pool=1")
            try:
                first = await provider.send(message(1))
                second = await provider.send(message(2))
            finally:
                await provider.close()
            return first, second, len(server.connections)

    return asyncio.run(main())


def test_451_is_transient_and_the_connection_stays_usable(pipelining: bool) -> None:
    recorder = refuse_rcpt("451 4.7.1 Greylisted, try again later", pipelining)
    first, second, connections = send_two(recorder)
    assert first.status is SendStatus.TRANSIENT
    assert first.details == {
        "stage": "rcpt", "smtp_code": 451, "smtp_text": "4.7.1 Greylisted, try again later",
        "enhanced_status": "4.7.1",
    }  # fmt: skip
    assert "Greylisted" in (first.error or "")
    assert second.status is SendStatus.SENT  # after RSET, on the same connection
    assert connections == 1
    assert [m.rcpt_tos for m in recorder.messages] == [["bob2@example.org"]]


def test_550_is_permanent_with_the_server_text(pipelining: bool) -> None:
    recorder = refuse_rcpt("550 5.1.1 <bob1@example.org>: no such user", pipelining)
    first, second, connections = send_two(recorder)
    assert first.status is SendStatus.PERMANENT
    assert first.error == "SMTP 550 at rcpt: 5.1.1 <bob1@example.org>: no such user"
    assert first.details["enhanced_status"] == "5.1.1"
    assert second.status is SendStatus.SENT
    assert connections == 1


def test_refusal_after_data_is_classified_by_its_code(pipelining: bool) -> None:
    for reply, status in (
        ("554 5.7.1 Message rejected as spam", SendStatus.PERMANENT),
        ("452 4.3.1 Insufficient system storage", SendStatus.TRANSIENT),
    ):
        recorder = Recorder(pipelining=pipelining)

        async def on_data(envelope: Any, reply: str = reply) -> str | None:
            return reply if "bob1@example.org" in envelope.rcpt_tos else None

        recorder.on_data = on_data
        first, second, connections = send_two(recorder)
        assert (first.status, first.details["stage"]) == (status, "data")
        assert first.error is not None and reply[4:] in first.error
        assert second.status is SendStatus.SENT
        assert connections == 1


def test_421_closing_is_transient_and_the_next_send_reconnects(pipelining: bool) -> None:
    recorder = Recorder(pipelining=pipelining)
    calls = 0

    async def on_mail(server: Any) -> str | None:
        nonlocal calls
        calls += 1
        return "421 4.3.2 Service shutting down" if calls == 1 else None

    recorder.on_mail = on_mail
    first, second, connections = send_two(recorder)
    assert (first.status, first.details["smtp_code"]) == (SendStatus.TRANSIENT, 421)
    assert second.status is SendStatus.SENT
    assert connections == 2


def test_server_down_is_transient() -> None:
    async def main() -> SendResult:
        port = await free_port_with_nobody_listening()
        provider = smtp_provider_from_url(f"smtp://127.0.0.1:{port}?timeout=5")
        try:
            return await provider.send(message(1))
        finally:
            await provider.close()

    result = asyncio.run(main())
    assert result.status is SendStatus.TRANSIENT
    assert result.details["stage"] == "connect"
    assert "Error connecting" in (result.error or "")


def test_a_server_that_never_greets_times_out_transient() -> None:
    async def main() -> SendResult:
        accepted = asyncio.get_running_loop().create_future()

        def silent() -> asyncio.Protocol:
            if not accepted.done():
                accepted.set_result(None)
            return asyncio.Protocol()

        server = await asyncio.get_running_loop().create_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        provider = smtp_provider_from_url(f"smtp://127.0.0.1:{port}?timeout=0.2")
        try:
            result = await provider.send(message(1))
            await accepted  # it did connect; the server just never said anything
            return result
        finally:
            await provider.close()
            server.close()
            await server.wait_closed()

    result = asyncio.run(main())
    assert result.status is SendStatus.TRANSIENT
    assert result.details["stage"] == "connect"
    assert "timeout" in (result.error or "").lower()


def test_a_server_that_stalls_after_data_times_out_transient(pipelining: bool) -> None:
    recorder = Recorder(pipelining=pipelining)
    stalled = asyncio.Event()

    async def on_data(envelope: Any) -> str | None:
        stalled.set()
        await asyncio.Event().wait()  # never answers; cancelled when the server closes
        return None

    recorder.on_data = on_data

    async def main() -> SendResult:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}?timeout=0.3")
            try:
                result = await provider.send(message(1))
            finally:
                await provider.close()
            assert stalled.is_set()
            return result

    result = asyncio.run(main())
    assert (result.status, result.details["stage"]) == (SendStatus.TRANSIENT, "data")
    assert result.details["error_type"] == "TimeoutError"


def test_dropped_connection_is_reestablished_on_the_next_send(pipelining: bool) -> None:
    recorder = Recorder(pipelining=pipelining)

    async def main() -> tuple[list[SendResult], int]:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}?pool=1")
            try:
                first = await provider.send(message(1))
                server.drop_connections()  # the server restarts or times the idle client out
                second = await provider.send(message(2))
                third = await provider.send(message(3))
            finally:
                await provider.close()
            return [first, second, third], len(server.connections)

    results, connections = asyncio.run(main())
    assert [r.status for r in results] == [SendStatus.SENT] * 3
    assert connections == 2
    assert [m.rcpt_tos[0] for m in recorder.messages] == [
        "bob1@example.org", "bob2@example.org", "bob3@example.org",
    ]  # fmt: skip


def test_connection_closed_as_mail_goes_out_is_retried_once_on_a_new_one(
    pipelining: bool,
) -> None:
    """The server hangs up on the first command of a reused connection: nothing was sent yet."""
    recorder = Recorder(pipelining=pipelining)
    mails = 0

    async def on_mail(server: Any) -> str | None:
        nonlocal mails
        mails += 1
        if mails == 2:
            server.transport.close()
            return "421 closing"  # never reaches the client: the transport is closed
        return None

    recorder.on_mail = on_mail
    first, second, connections = send_two(recorder)
    assert (first.status, second.status) == (SendStatus.SENT, SendStatus.SENT)
    assert connections == 2
    assert [m.rcpt_tos[0] for m in recorder.messages] == ["bob1@example.org", "bob2@example.org"]


def test_date_header_comes_from_the_clock() -> None:
    recorder = Recorder()
    clock = FakeClock()

    async def main() -> None:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}", clock=clock)
            try:
                await provider.send(message(1))
                clock.advance(hours=2)
                await provider.send(message(2))
            finally:
                await provider.close()

    asyncio.run(main())
    dates = [m.data.split(b"\r\nDate: ")[1].split(b"\r\n")[0] for m in recorder.messages]
    assert dates == [b"Mon, 05 Jan 2026 09:00:00 +0000", b"Mon, 05 Jan 2026 11:00:00 +0000"]


def test_pipelining_sends_mail_rcpt_and_data_in_one_write(pipelining: bool) -> None:
    """With PIPELINING, RCPT and DATA are already waiting when the server reads MAIL."""
    recorder = Recorder(pipelining=pipelining)
    waiting: list[bytes] = []

    async def on_mail(server: Any) -> str | None:
        waiting.append(bytes(server._stream_reader._buffer))  # what the client sent after MAIL
        return None

    recorder.on_mail = on_mail
    first, second, _ = send_two(recorder)
    assert (first.status, second.status) == (SendStatus.SENT, SendStatus.SENT)
    expected = [
        b"RCPT TO:<bob1@example.org>\r\nDATA\r\n",
        b"RCPT TO:<bob2@example.org>\r\nDATA\r\n",
    ]
    assert waiting == (expected if pipelining else [b"", b""])
