"""Bulk writes (`clarion.storage.sql.bulk`) on every backend: conflicts, RETURNING, and
values that read back as SQLAlchemy would have stored them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from clarion.storage.schema import consent_history, journey_instances, journey_stats, journey_timers
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.bulk import BulkInsert
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace

STATS = BulkInsert(
    journey_stats,
    ("workspace_id", "journey", "version", "node", "counter", "value"),
    ("workspace_id", "journey", "version", "node", "counter"),
    add="value",
)
TIMERS = BulkInsert(
    journey_timers,
    ("instance_id", "key", "workspace_id", "profile_id", "due_at", "kind", "payload", "attempts"),
    ("instance_id", "key"),
    update=("due_at", "payload"),
)
INSTANCES = BulkInsert(
    journey_instances,
    (
        "id",
        "workspace_id",
        "journey",
        "version",
        "profile_id",
        "status",
        "state",
        "entered_at",
        "updated_at",
    ),
    ("id",),
)


def test_counters_add_up_and_upserts_replace(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        STATS.execute(tx.conn, [(ws, "j", 1, "n", "entered", 2), (ws, "j", 1, "n", "exited", 1)])
        TIMERS.execute(tx.conn, [("i1", "k", ws, "p", 10, "timer", None, 0)])
    with db.write() as tx:
        STATS.execute(tx.conn, [(ws, "j", 1, "n", "entered", 3)])
        TIMERS.execute(
            tx.conn,
            [
                ("i1", "k", ws, "p", 20, "http", {"url": "x"}, 5),
                ("i2", "k", ws, "p", 1, "t", None, 0),
            ],
        )
    with db.read() as tx:
        stats = dict(tx.conn.execute(select(journey_stats.c.counter, journey_stats.c.value)).all())
        timers = {
            r.instance_id: (r.due_at, r.kind, r.payload, r.attempts)
            for r in tx.conn.execute(select(journey_timers))
        }
    assert stats == {"entered": 5, "exited": 1}
    # Only the `update` columns change on a conflict.
    assert timers == {"i1": (20, "timer", {"url": "x"}, 0), "i2": (1, "t", None, 0)}


def test_returning_names_only_the_rows_inserted(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    state = {"nested": {"list": [1, "two", None]}, "text": 'quotes " and \\ backslashes'}

    def row(iid: str, status: str) -> tuple[object, ...]:
        return (iid, ws, "j", 1, "p", status, state, 1, 1)

    with db.write() as tx:
        assert INSTANCES.returning(tx.conn, [row("a", "active"), row("b", "active")], "id") == [
            "a",
            "b",
        ]
    with db.write() as tx:
        assert INSTANCES.returning(tx.conn, [row("b", "exited"), row("c", "active")], "id") == ["c"]
    with db.read() as tx:
        found = {
            r.id: (r.status, r.state)
            for r in tx.conn.execute(select(journey_instances).order_by(journey_instances.c.id))
        }
    assert found == {"a": ("active", state), "b": ("active", state), "c": ("active", state)}


def test_datetimes_shared_by_rows_and_distinct_ones_each_read_back(
    db: SqlDatabase, clock: FakeClock
) -> None:
    """A batch converts a timestamp that the next row shares only once; a different one
    (even an equal-looking value of another object) is converted for its own row."""
    ws = create_workspace(db, clock, "a").workspace.id
    now = clock.now()
    later = now + timedelta(seconds=1)
    same_as_now = datetime.fromtimestamp(now.timestamp(), tz=UTC)
    stamps = [now, now, later, now, same_as_now, later, later]
    table = BulkInsert(
        consent_history,
        ("id", "workspace_id", "profile_id", "channel", "group", "status", "source", "created_at"),
        ("id",),
    )
    rows = [
        (f"c{n}", ws, f"p{n}", "email", "", "subscribed", "test", at) for n, at in enumerate(stamps)
    ]
    with db.write() as tx:
        table.execute(tx.conn, rows)
    with db.read() as tx:
        found = dict(
            tx.conn.execute(
                select(consent_history.c.profile_id, consent_history.c.created_at)
            ).all()
        )
    assert [found[f"p{n}"] for n in range(len(stamps))] == stamps
