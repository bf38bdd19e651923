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
