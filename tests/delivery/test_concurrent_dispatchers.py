"""Several dispatchers on one outbox send every message exactly once.

Each dispatcher has its own database handle (as separate processes do) and
runs in its own thread with its own event loop; their claims interleave in
small batches. The claim's lease is what keeps them apart: a message claimed
by one is not due for the other until the lease ends (the fake clock never
gets there).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.clock import Clock
from clarion.delivery import Dispatcher, ProviderRegistry, enqueue
from clarion.delivery.templates import TemplateStore
from clarion.model.messages import MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind
from clarion.model.profiles import ProfileRecord
from clarion.storage.schema import outbox
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace

MESSAGES = 600
DISPATCHERS = 3


class CountingProvider:
    """Counts sends by message id across dispatchers (thread-safe)."""

    name = "counting"
    channel = "email"

    def __init__(self, counts: Counter[str], lock: threading.Lock) -> None:
        self.counts, self.lock = counts, lock

    async def send(self, message: RenderedMessage) -> SendResult:
        await asyncio.sleep(0)  # let the other sends of the batch interleave
        with self.lock:
            self.counts[message.message_id] += 1
        return SendResult(SendStatus.SENT, provider_message_id=message.message_id)

    async def close(self) -> None:
        return None


def queue(db: SqlDatabase, clock: Clock) -> tuple[str, set[str]]:
    """A workspace whose email goes to the counting provider, and MESSAGES queued
    marketing emails to profiles (every pipeline stage runs)."""
    workspace = create_workspace(db, clock, "concurrent").workspace.id
    now = clock.now()
    with db.write() as tx:
        tx.documents.put(
            workspace,
            "template",
            "hello",
            {
                "kind": "template",
                "name": "hello",
                "channel": "email",
                "from": "shop@example.com",
                "subject": "Hi {{ profile.first_name }}",
                "html": "<p>Hello {{ profile.first_name }}, <a href='https://x.example'>go</a></p>",
            },
            now,
        )
        tx.set_channel_config(workspace, "email", "counting", {}, now)
        profiles = [
            ProfileRecord(f"p{n}", workspace, {"first_name": f"N{n}"}, {}, now, now)
            for n in range(MESSAGES)
        ]
        tx.profiles.insert(profiles)
        tx.profiles.assign(
            workspace, [(("email", f"u{n}@example.com"), p.id) for n, p in enumerate(profiles)], now
        )
        ids = enqueue(
            tx,
            [
                MessageIntent(
                    workspace,
                    "email",
                    "hello",
                    MessageSource(SourceKind.CAMPAIGN, "c1", run=p.id),
                    profile_id=p.id,
                )
                for p in profiles
            ],
            now,
        )
    return workspace, set(ids)


def test_dispatchers_in_parallel_send_each_message_once(db: SqlDatabase, clock: FakeClock) -> None:
    _, expected = queue(db, clock)
    assert len(expected) == MESSAGES
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    url = db.engine.url.render_as_string(hide_password=False)
    handles = [SqlDatabase.from_url(url) for _ in range(DISPATCHERS)]
    claimed = [0] * DISPATCHERS
    errors: list[BaseException] = []
    start = threading.Barrier(DISPATCHERS)

    def run(index: int) -> None:
        handle = handles[index]
        registry = ProviderRegistry(
            handle, clock, factories={"counting": lambda _s, _c: CountingProvider(counts, lock)}
        )
        dispatcher = Dispatcher(
            handle, clock, registry, TemplateStore(), public_url="https://c.example", batch_size=25
        )

        async def drain() -> None:
            while (stats := await dispatcher.run_once()).claimed:
                claimed[index] += stats.claimed
                assert stats.sent == stats.claimed, stats

        try:
            start.wait()
            asyncio.run(drain())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for handle in handles:
        handle.close()
    assert not errors, errors
    assert set(counts) == expected
    assert max(counts.values()) == 1, {k: n for k, n in counts.items() if n > 1}
    assert sum(claimed) == MESSAGES  # no message was claimed twice either
    assert all(n > 0 for n in claimed), claimed  # they did run side by side
    with db.read() as tx:
        statuses: dict[Any, int] = dict(
            tx.conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
        )
    assert statuses == {"sent": MESSAGES}
