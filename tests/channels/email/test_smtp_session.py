"""Reply parsing and dot-stuffing of the pipelined SMTP session."""

from __future__ import annotations

import asyncio
import email
from email import policy

from clarion.channels.base import SendStatus
from clarion.channels.email import smtp_provider_from_url
from clarion.channels.email.smtp_session import _dot_stuffed, _split_reply
from tests.channels.email.servers import Recorder, smtp_server
from tests.channels.email.test_smtp_provider import message


def test_replies_are_split_whole_even_when_several_arrive_together() -> None:
    buffer = bytearray(b"250 2.1.0 Ok\r\n250-first\r\n250-second\r\n250 last\r\n354 End data")
    assert _split_reply(buffer) == (250, "2.1.0 Ok")
    assert _split_reply(buffer) == (250, "first\nsecond\nlast")
    assert _split_reply(buffer) is None  # the 354 line is not complete yet
    buffer += b" with <CR><LF>.<CR><LF>\r\n"
    assert _split_reply(buffer) == (354, "End data with <CR><LF>.<CR><LF>")
    assert buffer == b""
    assert _split_reply(bytearray(b"garbage\r\n")) == (-1, "age")


def test_dot_stuffing() -> None:
    assert _dot_stuffed(b".a\r\nb\r\n.\r\n..c\r\n") == b"..a\r\nb\r\n..\r\n...c\r\n.\r\n"
    assert _dot_stuffed(b"no newline") == b"no newline\r\n.\r\n"


def test_lines_of_dots_arrive_intact() -> None:
    text = ".\n..\n.hidden\nend\n.\n"
    recorder = Recorder()

    async def main() -> SendStatus:
        async with smtp_server(recorder) as server:
            provider = smtp_provider_from_url(f"smtp://127.0.0.1:{server.port}")
            try:
                return (await provider.send(message(1, text=text, html=None))).status
            finally:
                await provider.close()

    assert asyncio.run(main()) is SendStatus.SENT
    parsed = email.message_from_bytes(recorder.messages[0].data, policy=policy.default)
    assert parsed.get_content() == text.replace("\n", "\r\n")  # type: ignore[attr-defined]
