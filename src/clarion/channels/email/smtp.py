"""The SMTP provider: MIME assembly, optional DKIM, delivery over a pool of connections.

`send` never raises for a refusal or an outage (see `replies` for how SMTP
replies and connection failures become `SendResult`s). The message's id is its
Message-ID (`<{message_id}@{domain}>`), so a resend after a crash carries the
same one. A connection that dropped while idle is reopened before use; if the
server turns out to have closed it just as the first command goes out, that
send is retried once on a fresh connection (nothing had been delivered yet).
aiosmtplib opens connections; `smtp_session` runs the transactions, pipelined
when the server allows it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from clarion.channels.base import RenderedEmail, RenderedMessage, SendResult, SendStatus
from clarion.channels.email.addresses import addr_spec
from clarion.channels.email.dkim import DkimSigner
from clarion.channels.email.mime import WireMessage, build_message
from clarion.channels.email.replies import reply_details, result_for_error, result_for_reply
from clarion.channels.email.smtp_pool import PooledConnection, SmtpPool
from clarion.channels.email.smtp_session import LostBeforeReply, Reply, SequenceBroken
from clarion.channels.email.smtp_settings import SmtpSettings, parse_smtp_url
from clarion.clock import Clock, SystemClock
from clarion.model.errors import InvalidInput


@dataclass(slots=True)
class _Queued:
    """A message of a `send_many` call, built, waiting for a connection."""

    index: int
    envelope: tuple[bytes, bytes, bytes]
    message_id: str
    retried: bool = False


class SmtpProvider:
    """Sends `RenderedMessage.email` by SMTP; implements `clarion.channels.base.Provider`."""

    name = "smtp"
    channel = "email"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        dkim: DkimSigner | Sequence[DkimSigner] | None = None,
        clock: Clock | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.signers: tuple[DkimSigner, ...] = (
            () if dkim is None else (dkim,) if isinstance(dkim, DkimSigner) else tuple(dkim)
        )
        self._clock = clock or SystemClock()
        self._envelope_from = (
            addr_spec(settings.envelope_from, "envelope_from") if settings.envelope_from else None
        )
        self._pool = SmtpPool(settings, tls_context)

    async def send(self, message: RenderedMessage) -> SendResult:
        """Build, sign and deliver `message.email`; the answer is a `SendResult`."""
        if message.email is None:
            return SendResult(SendStatus.PERMANENT, error="the message has no email content")
        try:
            wire = self.build(message.email, now=self._clock.now())
        except (InvalidInput, ValueError) as exc:
            return SendResult(SendStatus.PERMANENT, error=f"cannot build the email: {exc}")
        return await self.deliver(wire)

    def build(self, email: RenderedEmail, *, now: datetime) -> WireMessage:
        """The (signed) wire message for `email`; raises `InvalidInput` on bad input."""
        wire = build_message(
            email,
            date=now,
            message_id_domain=self.settings.message_id_domain,
            default_sender=self.settings.default_sender,
        )
        if not self.signers:
            return wire
        data = wire.data
        for signer in self.signers:
            data = signer.sign(data, now=now)
        return WireMessage(data, wire.sender, wire.recipient, wire.message_id)

    async def deliver(self, wire: WireMessage) -> SendResult:
        """One SMTP transaction for an already built message, on a pooled connection."""
        if self._pool.closed:
            return SendResult(SendStatus.TRANSIENT, error="the SMTP provider is closed")
        sender = (self._envelope_from or wire.sender).encode("ascii")
        recipient = wire.recipient.encode("ascii")
        async with self._pool.lease() as slot:
            if self._pool.closed:  # closed while this send waited for a connection
                return SendResult(SendStatus.TRANSIENT, error="the SMTP provider is closed")
            stage = "connect"
            try:
                async with asyncio.timeout(self.settings.timeout):
                    session = await slot.open()
                    stage = "mail"
                    try:
                        reply = await session.transaction(sender, recipient, wire.data)
                    except LostBeforeReply:
                        if not slot.reused:
                            raise
                        stage = "connect"  # closed under us: reconnect once, nothing was sent
                        slot.discard()
                        session = await slot.open()
                        stage = "mail"
                        reply = await session.transaction(sender, recipient, wire.data)
            except Exception as exc:  # connection failures, timeouts, refusals while opening
                if slot.session is not None and stage != "connect":
                    stage = slot.session.stage
                slot.discard()
                return result_for_error(exc, stage=stage)
        if reply.code != 250 or reply.stage != "data":
            return result_for_reply(reply.code, reply.text, stage=reply.stage)
        return SendResult(
            SendStatus.SENT,
            provider_message_id=wire.message_id,
            details=reply_details(reply.code, reply.text, "data"),
        )

    async def send_many(self, messages: Sequence[RenderedMessage]) -> list[SendResult]:
        """Send a batch: every connection of the pool takes messages from it in turn and
        carries them back to back (`SmtpSession.transactions`: one write per message).
        The answers are in the order of `messages`; like `send`, this never raises."""
        results: list[SendResult | None] = [None] * len(messages)
        now = self._clock.now()
        queue: deque[_Queued] = deque()
        for index, message in enumerate(messages):
            if message.email is None:
                results[index] = SendResult(
                    SendStatus.PERMANENT, error="the message has no email content"
                )
                continue
            try:
                wire = self.build(message.email, now=now)
            except (InvalidInput, ValueError) as exc:
                results[index] = SendResult(
                    SendStatus.PERMANENT, error=f"cannot build the email: {exc}"
                )
                continue
            sender = (self._envelope_from or wire.sender).encode("ascii")
            envelope = (sender, wire.recipient.encode("ascii"), wire.data)
            queue.append(_Queued(index, envelope, wire.message_id))
        lanes = min(self._pool.size, len(queue))
        await asyncio.gather(*(self._lane(queue, results) for _ in range(lanes)))
        return [r or SendResult(SendStatus.TRANSIENT, error="not sent") for r in results]

    async def _lane(self, queue: deque[_Queued], results: list[SendResult | None]) -> None:
        """Take messages from `queue` on one pooled connection until it is empty."""

        def done(item: _Queued, reply: Reply) -> None:
            if reply.code == 250 and reply.stage == "data":
                results[item.index] = SendResult(
                    SendStatus.SENT,
                    provider_message_id=item.message_id,
                    details=reply_details(reply.code, reply.text, "data"),
                )
            else:
                results[item.index] = result_for_reply(reply.code, reply.text, stage=reply.stage)

        while queue:
            async with self._pool.lease() as slot:
                if self._pool.closed:
                    for item in queue:
                        results[item.index] = SendResult(
                            SendStatus.TRANSIENT, error="the SMTP provider is closed"
                        )
                    queue.clear()
                    return
                await self._carry(slot, queue, done, results)

    async def _carry(
        self,
        slot: PooledConnection,
        queue: deque[_Queued],
        done: Callable[[_Queued, Reply], None],
        results: list[SendResult | None],
    ) -> None:
        """One connection's turn: open it if need be, then transactions until the queue
        is empty or the connection fails. The message in flight is answered with the
        failure, as `send` would; one whose envelope alone went out goes back to the
        queue, and so does one that met a connection closed under it (once)."""
        timeout = self.settings.timeout
        taken: list[_Queued] = []  # taken from the queue and not answered yet

        def take() -> _Queued | None:
            deadline.reschedule(asyncio.get_running_loop().time() + timeout)  # per message
            item = queue.popleft() if queue else None
            if item is not None:
                taken.append(item)
            return item

        def answer(item: _Queued, reply: Reply) -> None:
            taken.remove(item)
            done(item, reply)

        stage = "connect"
        try:
            async with asyncio.timeout(timeout) as deadline:
                session = await slot.open()
                stage = "mail"
                await session.transactions(take, lambda item: item.envelope, answer)
        except SequenceBroken as broken:
            slot.discard()
            if broken.following is not None:
                queue.appendleft(broken.following)
            current = broken.current
            if current is None:
                return
            if isinstance(broken.error, LostBeforeReply) and not current.retried:
                current.retried = True  # gone before MAIL was answered: nothing was sent
                queue.appendleft(current)
                return
            results[current.index] = result_for_error(broken.error, stage=broken.stage)
        except Exception as exc:  # opening failed, or a timeout
            if slot.session is not None and stage != "connect":
                stage = slot.session.stage
            slot.discard()
            failed = taken[0] if taken else queue.popleft() if queue else None
            queue.extendleft(reversed(taken[1:]))  # envelopes alone: not delivered
            if failed is not None:
                results[failed.index] = result_for_error(exc, stage=stage)

    async def close(self) -> None:
        """Finish the sends in flight and close every connection."""
        if not self._pool.closed:
            await self._pool.close()


def smtp_provider_from_url(
    url: str,
    *,
    dkim: DkimSigner | Sequence[DkimSigner] | None = None,
    clock: Clock | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> SmtpProvider:
    """An `SmtpProvider` for `smtp://user:pass@host:port?starttls=true&pool=4` (`smtp_settings`)."""
    return SmtpProvider(parse_smtp_url(url), dkim=dkim, clock=clock, tls_context=tls_context)
