"""A dispatcher claims as many messages as it can send within a quarter of its lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.delivery import Dispatcher, ProviderRegistry
from clarion.delivery.pace import FIRST_BATCH, BatchPace
from clarion.delivery.templates import TemplateStore
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.delivery.test_concurrent_dispatchers import MESSAGES, queue


def test_the_first_claim_is_the_default_then_what_fits_the_lease() -> None:
    pace = BatchPace(lease_seconds=120)  # a batch may take 30 s
    assert pace.size(2000) == FIRST_BATCH
    assert pace.size(25) == 25
    pace.observe(500, 15.0)  # 30 ms a message
    assert pace.size(2000) == 1000
    pace.observe(1000, 60.0)  # slower: 60 ms; smoothed with the batch before to 45 ms
    assert pace.size(2000) == 666
    pace.observe(10, 1000.0)  # a provider taking 100 s a message: one at a time
    assert pace.size(2000) == 1


def test_a_fast_pace_claims_up_to_the_limit_and_empty_batches_teach_nothing() -> None:
    pace = BatchPace(lease_seconds=120)
    pace.observe(0, 50.0)
    assert pace.size(2000) == FIRST_BATCH
    pace.observe(500, 0.05)  # 100 µs a message: 300,000 would fit
    assert pace.size(2000) == 2000
    pace.observe(500, 0.0)
    assert pace.size(3000) == 3000


class SlowProvider:
    """Takes `seconds` of the (fake) clock per message."""

    name = "counting"
    channel = "email"

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds

    async def send(self, message: RenderedMessage) -> SendResult:
        self.clock.advance(timedelta(seconds=self.seconds))
        return SendResult(SendStatus.SENT, provider_message_id=message.message_id)

    async def close(self) -> None:
        return None


def _claims(db: SqlDatabase, clock: FakeClock, seconds: float) -> list[int]:
    """The sizes of the dispatcher's claims over the queued messages."""
    queue(db, clock)
    registry = ProviderRegistry(
        db, clock, factories={"counting": lambda _s, _c: SlowProvider(clock, seconds)}
    )
    dispatcher = Dispatcher(db, clock, registry, TemplateStore(), public_url="https://c.example")

    async def drain() -> list[int]:
        claims = []
        while (stats := await dispatcher.run_once()).claimed:
            assert stats.sent == stats.claimed, stats
            claims.append(stats.claimed)
        return claims

    return asyncio.run(drain())


def test_a_slow_provider_gets_smaller_claims(db: SqlDatabase, clock: FakeClock) -> None:
    # 500 messages took 250 s at 0.5 s each: 30 s of the 120-s lease holds 60.
    assert _claims(db, clock, 0.5) == [FIRST_BATCH, 60, MESSAGES - FIRST_BATCH - 60]


def test_a_fast_provider_gets_the_rest_at_once(db: SqlDatabase, clock: FakeClock) -> None:
    assert _claims(db, clock, 0.0) == [FIRST_BATCH, MESSAGES - FIRST_BATCH]
