"""The change watch wakes a worker's loops when another process commits."""

from __future__ import annotations

from clarion.model.events import NewEvent
from clarion.processing.watch import ChangeWatch
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.changes import ChangeProbe
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace


def test_a_commit_elsewhere_wakes_every_target_once(db: SqlDatabase, clock: FakeClock) -> None:
    workspace = create_workspace(db, clock, "Acme").workspace.id
    woken: list[str] = []
    watch = ChangeWatch(
        ChangeProbe(db.engine), [lambda: woken.append("consumers"), lambda: woken.append("sends")]
    )
    try:
        # Other sessions may write to a shared PostgreSQL cluster; a SQLite file is ours.
        quiet = db.dialect == "sqlite"
        watch.tick()  # the first look only learns the token
        woken.clear()
        watch.tick()
        if quiet:
            assert woken == []
        woken.clear()

        other = SqlDatabase.from_url(db.engine.url.render_as_string(hide_password=False))
        try:
            with other.write() as tx:
                tx.events.append(
                    workspace,
                    [NewEvent(message_id="m1", type="track", event="Tick", user_id="u1")],
                    clock.now(),
                )
        finally:
            other.close()
        watch.tick()
        assert woken == ["consumers", "sends"]
        if quiet:
            watch.tick()
            assert woken == ["consumers", "sends"]
    finally:
        watch.stop()


def test_own_writes_do_not_wake_but_another_process_s_do(sqlite_db: SqlDatabase) -> None:
    clock = FakeClock()
    workspace = create_workspace(sqlite_db, clock, "Acme").workspace.id
    sqlite_db.share_writes()
    assert sqlite_db.shares_writes
    woken: list[str] = []
    watch = ChangeWatch(ChangeProbe(sqlite_db.engine), [lambda: woken.append("consumers")])
    sqlite_db.observe_writes(watch)
    url = sqlite_db.engine.url.render_as_string(hide_password=False)
    try:
        watch.tick()
        woken.clear()

        def append(db: SqlDatabase, message_id: str) -> None:
            with db.write() as tx:
                tx.events.append(
                    workspace,
                    [NewEvent(type="track", message_id=message_id, event="A")],
                    clock.now(),
                )

        append(sqlite_db, "own-1")
        append(sqlite_db, "own-2")
        watch.tick()
        assert woken == []  # this process's own commits

        other = SqlDatabase.from_url(url)
        other.share_writes()
        try:
            append(other, "theirs")
        finally:
            other.close()
        append(sqlite_db, "own-3")  # taking the turn notices the other's commit first
        assert woken == ["consumers"]
        watch.tick()
        assert woken == ["consumers"]
    finally:
        watch.stop()
