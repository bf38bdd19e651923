"""A run's snapshot queued into the outbox in SQL: bounds, limit, due times, replays."""

from __future__ import annotations

from datetime import timedelta

from clarion.clock import from_micros, to_micros
from clarion.model.messages import MessageSource, message_ids_in_order
from clarion.model.outcomes import SourceKind
from clarion.storage.campaigns import RunMessage
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace


def test_queue_recipients_takes_the_due_prefix_once_each_with_the_runs_fields(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "Acme").workspace.id
    now = clock.now()
    start_us = to_micros(now)
    source = MessageSource(SourceKind.CAMPAIGN, "c1", name="news", version=3, run="r1")
    ids = message_ids_in_order(ws, source, 10)
    # Six recipients due 1.3 s from now, four in 100 s (positions are in due order).
    dues = [start_us + 1_300_000] * 6 + [start_us + 100_000_000] * 4
    rows = [(n, f"p{n:02d}", dues[n], ids[n]) for n in range(10)]
    message = RunMessage(
        "email",
        "digest",
        2,
        "marketing",
        "news",
        source.as_json(),
        {"note": "Hej", "items": [1, 2]},
        throttle_key="campaign:r1",
        throttle_rate=50.0,
    )
    horizon = start_us + 10_000_000
    with db.write() as tx:
        tx.campaigns.add_recipients(ws, "r1", rows)
        assert tx.campaigns.queue_recipients("r1", 0, 4, horizon, message, now) == 4
        # A replayed chunk (a crash before the cursor was saved) queues nothing twice.
        assert tx.campaigns.queue_recipients("r1", 2, 100, horizon, message, now) == 6
        assert tx.campaigns.queue_recipients("r1", 6, 100, horizon, message, now) == 6
    with db.write() as tx:
        claimed = tx.outbox.claim_batch(100, now + timedelta(seconds=2), 60)
        queued = claimed.messages(ws)
    assert [m.id for m in queued] == ids[:6]
    assert [m.intent.profile_id for m in queued] == [f"p{n:02d}" for n in range(6)]
    first = queued[0]
    # Due at the start of its second (here the second after now).
    assert from_micros(first.due_at_us) == now + timedelta(seconds=1)
    intent = first.intent
    assert (intent.channel, intent.template, intent.template_version) == ("email", "digest", 2)
    assert (intent.category.value, intent.subscription_group) == ("marketing", "news")
    assert intent.source == source and intent.message_id == ids[0]
    assert intent.context == {"note": "Hej", "items": [1, 2]}
    assert intent.event is None and intent.row is None and intent.address is None
    assert (first.throttle_key, first.throttle_rate) == ("campaign:r1", 50.0)
