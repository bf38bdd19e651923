"""A small pool of reused SMTP connections, opened on demand.

Up to `pool_size` connections carry messages at once, one transaction each at
a time. aiosmtplib opens each connection (greeting, STARTTLS or implicit TLS,
EHLO, AUTH); an `SmtpSession` then runs the transactions on it. A connection
found closed (the server's idle timeout, a restart) is reopened before use;
one that failed mid-transaction is dropped, and the next user of its slot
opens a fresh one.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosmtplib

from clarion.channels.email.smtp_session import SmtpSession
from clarion.channels.email.smtp_settings import SmtpSettings

_QUIT_TIMEOUT = 2.0


def tls_context_for(settings: SmtpSettings) -> ssl.SSLContext | None:
    """The TLS context the settings ask for (None for plain SMTP)."""
    if settings.tls == "none":
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class PooledConnection:
    """One slot of the pool: a session, or nothing until the slot is first used."""

    def __init__(self, settings: SmtpSettings, tls_context: ssl.SSLContext | None) -> None:
        self._settings = settings
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None
        self.session: SmtpSession | None = None
        self.reused = False
        """True when the current transaction runs on a connection opened earlier."""

    async def open(self) -> SmtpSession:
        """The slot's session, (re)connecting (TLS, EHLO, AUTH) if it is not usable."""
        if self.session is not None and self.session.is_open:
            self.reused = True
            return self.session
        self.discard()
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.host, port=s.port, username=s.username, password=s.password,
            local_hostname=s.helo, timeout=s.timeout, use_tls=s.tls == "implicit",
            start_tls=s.tls == "starttls", tls_context=self._tls_context,
        )  # fmt: skip
        self._client, self.reused = client, False
        await client.connect()  # greeting, STARTTLS and AUTH as configured
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        if client.transport is None:
            raise aiosmtplib.SMTPServerDisconnected("the connection closed while opening")
        pipelining = client.supports_extension("pipelining")
        self.session = SmtpSession(client.transport, pipelining=pipelining)
        return self.session

    def discard(self) -> None:
        """Drop the connection (after a failure that may have left it out of step)."""
        if self.session is not None:
            self.session.close()
            self.session = None
        if self._client is not None:
            self._client.close()
            self._client = None

    async def quit(self) -> None:
        """Say QUIT politely if connected, then close."""
        if self.session is not None:
            with suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                async with asyncio.timeout(_QUIT_TIMEOUT):
                    await self.session.quit()
        self.discard()


class SmtpPool:
    """`settings.pool_size` connection slots; `lease()` waits for a free one."""

    def __init__(self, settings: SmtpSettings, tls_context: ssl.SSLContext | None = None) -> None:
        context = tls_context if tls_context is not None else tls_context_for(settings)
        self._slots = [PooledConnection(settings, context) for _ in range(settings.pool_size)]
        self._idle: asyncio.LifoQueue[PooledConnection] = asyncio.LifoQueue()
        for slot in reversed(self._slots):
            self._idle.put_nowait(slot)
        self.closed = False

    @property
    def size(self) -> int:
        """How many connections may be open at once."""
        return len(self._slots)

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[PooledConnection]:
        """A slot for one transaction; its connection is dropped if the body raises."""
        slot = await self._idle.get()
        try:
            yield slot
        except BaseException:
            slot.discard()
            raise
        finally:
            self._idle.put_nowait(slot)

    async def close(self) -> None:
        """Wait for transactions in flight, then QUIT every open connection."""
        self.closed = True
        slots = [await self._idle.get() for _ in self._slots]
        await asyncio.gather(*(slot.quit() for slot in slots))
        await asyncio.sleep(0)  # let the transports run their connection_lost callbacks
        for slot in slots:
            self._idle.put_nowait(slot)
