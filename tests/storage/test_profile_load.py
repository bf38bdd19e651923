"""Loading profiles: what was stored comes back whole, on SQLite's driver path as through
SQLAlchemy's column types, and never from another workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clarion.model.profiles import ProfileRecord
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.profiles import load_records
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace


def _profiles(ws: str, now: datetime) -> list[ProfileRecord]:
    return [
        ProfileRecord(
            id="p-full",
            workspace_id=ws,
            traits={"name": "Åsa 😀", "vip": True, "points": 1.5, "address": {"city": "Malmö"}},
            trait_times={"name": 1, "vip": 2},
            created_at=now,
            updated_at=now + timedelta(microseconds=123_456),
            timezone="Europe/Stockholm",
            locale="sv-SE",
            is_test=True,
        ),
        ProfileRecord(
            id="p-bare",
            workspace_id=ws,
            traits={},
            trait_times={},
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        ),
    ]


def test_profiles_load_as_stored_with_identities(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    other = create_workspace(db, clock, "b").workspace.id
    stored = _profiles(ws, clock.now())
    with db.write() as tx:
        tx.profiles.insert(stored)
        tx.profiles.insert([ProfileRecord("p-other", other, {}, {}, clock.now(), clock.now())])
        tx.profiles.assign(
            ws,
            [(("email", "asa@example.com"), "p-full"), (("user_id", "u1"), "p-full")],
            clock.now(),
        )
    with db.read() as tx:
        loaded = tx.profiles.load(ws, ["p-full", "p-bare", "p-missing", "p-other", "p-full"])
        typed = load_records(tx.conn, ws, ["p-full", "p-bare", "p-missing", "p-other"])
    assert set(loaded) == {"p-full", "p-bare"}
    assert loaded == typed
    full = loaded["p-full"]
    assert full.identities == {("email", "asa@example.com"), ("user_id", "u1")}
    assert full.traits == stored[0].traits and full.trait_times == {"name": 1, "vip": 2}
    assert full.updated_at == stored[0].updated_at and full.updated_at.tzinfo is not None
    assert (full.timezone, full.locale, full.is_test) == ("Europe/Stockholm", "sv-SE", True)
    assert loaded["p-bare"].created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert loaded["p-bare"].identities == set()


def test_more_profiles_than_one_statement_takes(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    now = clock.now()
    with db.write() as tx:
        tx.profiles.insert(
            [ProfileRecord(f"p{n}", ws, {"n": n}, {}, now, now) for n in range(1201)]
        )
    with db.read() as tx:
        loaded = tx.profiles.load(ws, [f"p{n}" for n in range(1201)])
    assert {p: r.traits["n"] for p, r in loaded.items()} == {f"p{n}": n for n in range(1201)}
