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
