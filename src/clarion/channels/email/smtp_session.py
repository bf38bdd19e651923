"""Mail transactions on a connection that aiosmtplib has opened, with PIPELINING (RFC 2920).

aiosmtplib does the parts worth a library (connect, greeting, STARTTLS, EHLO,
AUTH) but waits for each reply before the next command, and its protocol can
only hold one reply at a time. On loopback or a LAN each round trip costs more
CPU in system calls than the rest of a send, so once the connection is ready
`SmtpSession` takes over its transport (`transport.set_protocol`) and, when the
server offers PIPELINING, sends MAIL, RCPT and DATA in one write and the
content in a second: two writes per message instead of four. Without
PIPELINING it sends one command at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiosmtplib import SMTPServerDisconnected

_MAX_BUFFER = 64 * 1024


class LostBeforeReply(SMTPServerDisconnected):
    """The connection closed before the server answered the transaction's first command.

    Nothing can have been delivered, so the message may go again on a new connection.
    """


_T = TypeVar("_T")


class SequenceBroken(SMTPServerDisconnected, Generic[_T]):
    """The connection failed during `SmtpSession.transactions`.

    `current` was in its transaction (at `stage`; delivered only if the content went
    out and the reply was lost); `following` had only its envelope sent and was not
    delivered. `error` is the underlying failure.
    """

    def __init__(
        self, error: Exception, stage: str, current: _T | None, following: _T | None
    ) -> None:
        super().__init__(str(error))
        self.error, self.stage = error, stage
        self.current, self.following = current, following


@dataclass(frozen=True, slots=True)
class Reply:
    """A server reply and the stage it answers (`mail`, `rcpt`, `data`)."""

    code: int
    text: str
    stage: str


class SmtpSession(asyncio.Protocol):
    """The transaction side of one SMTP connection (one transaction at a time)."""

    def __init__(self, transport: asyncio.BaseTransport, *, pipelining: bool) -> None:
        self.transport = transport
        self.pipelining = pipelining
        self.stage = "mail"
        """Where the current transaction is: the stage whose reply is awaited."""
        self._buffer = bytearray()
        self._replies: deque[tuple[int, str]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed: str | None = None
        """Why the connection is unusable, once it is."""
        transport.set_protocol(self)

    @property
    def is_open(self) -> bool:
        """Connected, and the server has not said anything unasked (such as a 421)."""
        return not (self._closed or self.transport.is_closing() or self._replies or self._buffer)

    def data_received(self, data: bytes) -> None:
        """Collect every complete reply (several may come in one segment when pipelining)."""
        self._buffer += data
        while (reply := _split_reply(self._buffer)) is not None:
            self._replies.append(reply)
        if len(self._buffer) > _MAX_BUFFER:
            self._fail("the server sent an over-long reply")
        self._wake()

    def eof_received(self) -> bool:
        """The server closed its side: the connection is of no further use."""
        self._fail("the server closed the connection")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Wake a transaction waiting for replies that will never come."""
        self._fail(f"connection lost: {exc}" if exc else "connection lost")

    def close(self) -> None:
        """Close the connection (the server sees a hang-up)."""
        self._fail("closed by the client")

    async def transaction(self, sender: bytes, recipient: bytes, data: bytes) -> Reply:
        """MAIL, RCPT, DATA and the content; the first refusal or the final reply.

        `data` is the message with CRLF line endings; lines starting with a dot
        are dot-stuffed here. Raises `LostBeforeReply` when the connection is
        gone before the server answered MAIL (nothing can have been delivered),
        `SMTPServerDisconnected` when it goes later.
        """
        if not self.is_open:
            raise LostBeforeReply(self._closed or "the connection is not usable")
        mail = b"MAIL FROM:<" + sender + b">\r\n"
        rcpt = b"RCPT TO:<" + recipient + b">\r\n"
        if self.pipelining:
            self._write(mail + rcpt + b"DATA\r\n")
            replies = []
            for stage in ("mail", "rcpt", "data"):
                replies.append(await self._reply(stage))
                if replies[-1].code == 421:
                    break
        else:
            replies = [await self._command(mail, "mail")]
            if replies[-1].code == 250:
                replies.append(await self._command(rcpt, "rcpt"))
            if replies[-1].code in (250, 251) and len(replies) == 2:
                replies.append(await self._command(b"DATA\r\n", "data"))
        answers = zip(replies, _EXPECTED, strict=False)
        refusal = next((reply for reply, ok in answers if reply.code not in ok), None)
        if refusal is None:
            return await self._command(_dot_stuffed(data), "data")
        await self._reset(replies)
        return refusal

    async def _reset(self, replies: list[Reply]) -> None:
        """After a refused envelope: end a DATA the server started anyway, then RSET."""
        try:
            if len(replies) == 3 and replies[2].code == 354:
                await self._command(b".\r\n", "data")
            await self._command(b"RSET\r\n", "rset")
        except SMTPServerDisconnected:
            self.close()  # the refusal stands; the next send opens a new connection

    async def transactions(
        self,
        take: Callable[[], _T | None],
        envelope: Callable[[_T], tuple[bytes, bytes, bytes]],
        done: Callable[[_T, Reply], None],
    ) -> None:
        """Transactions back to back until `take` gives None, one write each with PIPELINING.

        A message's content goes out in one write with the next message's MAIL, RCPT
        and DATA (RFC 2920 lets a command group follow the end of the data): one
        write per message instead of two, which on loopback or a LAN is most of a
        send's CPU. `envelope` gives (sender, recipient, data) for an item; `done`
        gets each item's final reply or refusal. Without PIPELINING the items go one
        `transaction` at a time. Raises `SequenceBroken` if the connection fails.
        """
        current = take()
        if current is None:
            return
        if not self.pipelining:
            while current is not None:
                try:
                    done(current, await self.transaction(*envelope(current)))
                except SMTPServerDisconnected as exc:
                    raise SequenceBroken(exc, self.stage, current, None) from exc
                current = take()
            return
        following: _T | None = None
        self.stage = "mail"
        try:
            if not self.is_open:
                raise LostBeforeReply(self._closed or "the connection is not usable")
            self._write(_group(*envelope(current)[:2]))
            while current is not None:
                replies = []
                for stage in ("mail", "rcpt", "data"):
                    replies.append(await self._reply(stage))
                    if replies[-1].code == 421:
                        break
                answers = zip(replies, _EXPECTED, strict=False)
                refusal = next((reply for reply, ok in answers if reply.code not in ok), None)
                if refusal is not None:
                    await self._reset(replies)
                    done(current, refusal)
                    current = None if self._closed else take()
                    if current is not None:
                        self._write(_group(*envelope(current)[:2]))
                    continue
                following = take()
                data = _dot_stuffed(envelope(current)[2])
                self._write(data + _group(*envelope(following)[:2]) if following else data)
                done(current, await self._reply("data"))
                current, following = following, None
                if current is not None and self._closed:  # a 421 after the content
                    current, following = None, current
                    raise LostBeforeReply(self._closed)
        except SMTPServerDisconnected as exc:
            raise SequenceBroken(exc, self.stage, current, following) from exc

    async def quit(self) -> None:
        """QUIT politely, then close."""
        try:
            if self.is_open:
                await self._command(b"QUIT\r\n", "quit")
        finally:
            self.close()

    async def _command(self, line: bytes, stage: str) -> Reply:
        self._write(line)
        return await self._reply(stage)

    async def _reply(self, stage: str) -> Reply:
        self.stage = stage
        while not self._replies:
            if self._closed:
                lost = LostBeforeReply if stage == "mail" else SMTPServerDisconnected
                raise lost(self._closed)
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        code, text = self._replies.popleft()
        if code == 421:  # the server is closing the connection (RFC 5321 section 3.8)
            self._fail(f"the server is closing the connection: {text}")
        return Reply(code, text, stage)

    def _write(self, data: bytes) -> None:
        if self._closed:
            raise SMTPServerDisconnected(self._closed)
        self.transport.write(data)  # type: ignore[attr-defined]

    def _fail(self, reason: str) -> None:
        if self._closed is None:
            self._closed = reason
        self._wake()
        if not self.transport.is_closing():
            self.transport.close()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


_EXPECTED = ((250,), (250, 251), (354,))


def _split_reply(buffer: bytearray) -> tuple[int, str] | None:
    """Remove one complete (possibly multiline) reply from the front of `buffer`."""
    lines: list[bytes] = []
    start = 0
    while (end := buffer.find(b"\n", start)) >= 0:
        line = bytes(buffer[start:end]).rstrip(b"\r")
        lines.append(line)
        start = end + 1
        if line[3:4] != b"-":
            del buffer[:start]
            head = line[:3]
            code = int(head) if head.isdigit() else -1
            return code, "\n".join(part[4:].decode("utf-8", "replace") for part in lines)
    return None


def _group(sender: bytes, recipient: bytes) -> bytes:
    """MAIL, RCPT and DATA, to be written at once (PIPELINING)."""
    return b"MAIL FROM:<" + sender + b">\r\nRCPT TO:<" + recipient + b">\r\nDATA\r\n"


def _dot_stuffed(data: bytes) -> bytes:
    """`data` ready to follow DATA: leading dots doubled, CRLF at the end, then `.` CRLF."""
    data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"
