"""A dispatcher learns that nothing is due from a read, before any write transaction."""

from __future__ import annotations

from datetime import timedelta

from clarion.delivery import enqueue
from clarion.model.messages import MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace


def intent(workspace: str, run: str) -> MessageIntent:
    return MessageIntent(
        workspace,
        "email",
        "hello",
        MessageSource(SourceKind.CAMPAIGN, "c1", run=run),
        address="a@x.example",
    )


def due(db: SqlDatabase, clock: FakeClock) -> bool:
    with db.read() as tx:
        return tx.outbox.anything_due(clock.now())


def test_anything_due_agrees_with_what_a_claim_would_take(
    db: SqlDatabase, clock: FakeClock
) -> None:
    workspace = create_workspace(db, clock, "Acme").workspace.id
    assert not due(db, clock)
    with db.write() as tx:
        enqueue(
            tx, [intent(workspace, "later")], clock.now(), due_at=clock.now() + timedelta(hours=1)
        )
    assert not due(db, clock)  # deferred: not yet

    clock.advance(timedelta(hours=1))
    assert due(db, clock)
    with db.write() as tx:
        assert len(tx.outbox.claim(10, clock.now(), lease_seconds=60)) == 1
    assert not due(db, clock)  # leased to a dispatcher

    clock.advance(timedelta(seconds=61))
    assert due(db, clock)  # the lease ran out: the dispatcher died mid-send
    with db.write() as tx:
        [taken] = tx.outbox.claim(10, clock.now(), lease_seconds=60)
        tx.outbox.finish(taken.id, "sent", clock.now())
    assert not due(db, clock)


def test_a_claim_batch_parses_each_workspace_longest_due_first(
    db: SqlDatabase, clock: FakeClock
) -> None:
    a = create_workspace(db, clock, "A").workspace.id
    b = create_workspace(db, clock, "B").workspace.id
    start = clock.now()
    with db.write() as tx:
        for n, workspace in enumerate([a, b, a, b, a]):
            # Queued in this order, due in the reverse one.
            enqueue(tx, [intent(workspace, f"r{n}")], start, due_at=start - timedelta(minutes=n))
    with db.write() as tx:
        batch = tx.outbox.claim_batch(4, clock.now(), lease_seconds=60)
    assert len(batch) == 4  # the four longest due: r4, r3, r2, r1
    assert sorted(batch.workspaces()) == sorted([a, b])
    assert [m.intent.source.run for m in batch.messages(a)] == ["r4", "r2"]
    assert [m.intent.source.run for m in batch.messages(b)] == ["r3", "r1"]
    assert all(m.status == "sending" and m.attempts == 1 for m in batch.messages(a))
    assert batch.messages("another workspace") == []
    with db.write() as tx:  # the fifth is still there for the next claim
        assert [m.intent.source.run for m in tx.outbox.claim(4, clock.now(), 60)] == ["r0"]


def test_a_claim_orders_expired_leases_and_pending_messages_together(
    db: SqlDatabase, clock: FakeClock
) -> None:
    workspace = create_workspace(db, clock, "Acme").workspace.id
    start = clock.now()
    with db.write() as tx:
        enqueue(tx, [intent(workspace, "a")], start, due_at=start - timedelta(minutes=10))
    with db.write() as tx:  # `a` is leased to a dispatcher that then dies
        assert [m.intent.source.run for m in tx.outbox.claim(5, start, 60)] == ["a"]
    with db.write() as tx:
        for run, minutes in (("c", 1), ("b", 5), ("d", 0)):
            enqueue(tx, [intent(workspace, run)], start, due_at=start - timedelta(minutes=minutes))
    clock.advance(timedelta(seconds=61))
    with db.write() as tx:  # the expired lease is the longest due
        assert [m.intent.source.run for m in tx.outbox.claim(2, clock.now(), 60)] == ["a", "b"]
    with db.write() as tx:
        taken = tx.outbox.claim(5, clock.now(), 60)
    assert [m.intent.source.run for m in taken] == ["c", "d"]
    assert [m.attempts for m in taken] == [1, 1]
    with db.write() as tx:  # all leased now
        assert tx.outbox.claim(5, clock.now(), 60) == []
