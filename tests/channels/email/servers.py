"""Real SMTP servers for the provider tests: aiosmtpd on the test's own event loop.

Each server listens on a free port of 127.0.0.1 (port 0), optionally with
STARTTLS or implicit TLS (a self-signed certificate made here with
`cryptography`) and AUTH. Handlers record what arrived and can be told to
refuse, stall or hang up, so tests synchronise on futures, never on sleeps.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: Any
    authenticated: bool = False
    encrypted: bool = False
    helo: str | None = None


@dataclass
class Recorder:
    """An aiosmtpd handler that stores messages; hooks may refuse or stall a stage."""

    messages: list[Received] = field(default_factory=list)
    on_mail: Callable[[SMTP], Awaitable[str | None]] | None = None
    on_rcpt: Callable[[str], Awaitable[str | None]] | None = None
    on_data: Callable[[Envelope], Awaitable[str | None]] | None = None
    arrived: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    pipelining: bool = True
    """Advertise PIPELINING (aiosmtpd handles pipelined commands but does not say so)."""

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.on_mail is not None and (reply := await self.on_mail(server)) is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.on_rcpt is not None and (reply := await self.on_rcpt(address)) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.on_data is not None and (reply := await self.on_data(envelope)) is not None:
            return reply
        data = envelope.original_content or b""
        received = Received(
            envelope.mail_from or "", list(envelope.rcpt_tos), data, session.peer,
            authenticated=bool(session.authenticated),
            helo=session.host_name,
            encrypted=server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None,
        )  # fmt: skip
        self.messages.append(received)
        self.arrived.put_nowait(received)
        return "250 2.0.0 Ok: queued as TEST"


@dataclass
class RunningServer:
    """A listening server: its port, and the server-side protocol of each connection."""

    port: int
    connections: list[SMTP]

    def drop_connections(self) -> None:
        """Hang up on every client, as a server restart or idle timeout would."""
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.close()


@asynccontextmanager
async def smtp_server(
    handler: Recorder,
    *,
    tls: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    credentials: tuple[str, str] | None = None,
) -> AsyncIterator[RunningServer]:
    """Serve `handler` on 127.0.0.1:<free port> until the block ends."""
    loop = asyncio.get_running_loop()
    connections: list[SMTP] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == credentials
        )
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 535 itself

    def factory() -> SMTP:
        connection = SMTP(
            handler,
            hostname="localhost",
            tls_context=None if implicit_tls else tls,
            require_starttls=tls is not None and not implicit_tls,
            authenticator=authenticator if credentials else None,
            # aiosmtpd counts only STARTTLS as TLS, and warns when AUTH is required without it
            auth_required=credentials is not None and tls is not None and not implicit_tls,
            auth_require_tls=tls is not None and not implicit_tls,
            loop=loop,
        )
        connections.append(connection)
        return connection

    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=tls if implicit_tls else None)
    try:
        yield RunningServer(server.sockets[0].getsockname()[1], connections)
    finally:
        server.close()
        for connection in connections:
            if connection.transport is not None:
                connection.transport.close()
        await server.wait_closed()
        await asyncio.sleep(0)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, as PEM files in `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)  # noqa: TID251 - TLS checks certificates against the wall clock
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """The server side of TLS with the self-signed certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


async def free_port_with_nobody_listening() -> int:
    """A port on 127.0.0.1 that was just free (connections to it are refused)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port
