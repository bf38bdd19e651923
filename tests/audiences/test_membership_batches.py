"""Real-time membership in batches, on every backend: bulk storage, relevance, exactly-once."""

from __future__ import annotations

from typing import Any

from clarion.api.runtime import builtin_kinds
from clarion.audiences.membership import AudienceConsumer
from clarion.audiences.membership.index import AudienceIndex, IndexCache
from clarion.clock import to_micros
from clarion.documents import KindRegistry, apply_documents
from clarion.model.consent import GroupDefault
from clarion.model.events import NewEvent
from clarion.processing.consumers import drain
from clarion.profiles import IdentityStage
from clarion.storage.base import Page
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces.service import create_workspace

PAGE = Page(limit=1000)
WEEK = 7 * 86_400_000_000
BIG_SPENDERS = {
    "performed": {
        "event": "Order Completed",
        "where": [{"path": "total", "op": "gte", "value": 100}],
        "within": {"last": 7, "unit": "days"},
    }
}
AUDIENCES: list[dict[str, Any]] = [
    {"kind": "audience", "name": "big", "definition": BIG_SPENDERS},
    {
        "kind": "audience",
        "name": "big-se",
        "definition": {
            "all": [
                {"in_audience": "big"},
                {"trait": {"path": "country", "op": "eq", "value": "SE"}},
            ]
        },
    },
    {
        "kind": "audience",
        "name": "ordered",
        "definition": {"performed": {"event": "Order Completed"}},
    },
    {
        "kind": "audience",
        "name": "recent-date",
        "definition": {
            "performed": {
                "event": "Order Completed",
                "where": [{"path": "at", "op": "within_last", "value": "3d"}],
            }
        },
    },
]


def _order(k: int, user: str, total: int) -> NewEvent:
    return NewEvent(
        type="track",
        message_id=f"o{k}",
        event="Order Completed",
        user_id=user,
        properties={"total": total},
        origin="secret_key",
    )


def _identify(user: str, country: str) -> NewEvent:
    return NewEvent(
        type="identify",
        message_id=f"i-{user}",
        user_id=user,
        payload={"traits": {"country": country}},
        origin="secret_key",
    )


def _setup(db: SqlDatabase, clock: FakeClock) -> str:
    ws = create_workspace(db, clock, "Acme").workspace.id
    with db.write() as tx:
        apply_documents(tx, KindRegistry(builtin_kinds()), ws, AUDIENCES, clock.now())
    return ws


def _run(db: SqlDatabase, clock: FakeClock, ws: str, events: list[NewEvent]) -> None:
    with db.write() as tx:
        tx.events.append(ws, events, clock.now())
    drain(db, clock, [IdentityStage(clock), AudienceConsumer(clock)], limit=3)


def _audience_events(db: SqlDatabase, ws: str) -> list[tuple[str, str, str]]:
    with db.read() as tx:
        pids = [p.id for p in tx.profiles.list(ws, PAGE)]
        found = tx.events.named(ws, pids, ["audience.entered", "audience.exited"])
    return sorted(
        (e.event or "", e.properties["audience"], pid) for pid, es in found.items() for e in es
    )


def test_memberships_events_and_timers_through_small_batches(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = _setup(db, clock)
    _run(
        db,
        clock,
        ws,
        [_identify("ann", "SE"), _identify("bo", "NO"), _order(1, "ann", 150), _order(2, "bo", 50)],
    )
    with db.read() as tx:
        ann = next(p.id for p in tx.profiles.list(ws, PAGE) if ("user_id", "ann") in p.identities)
        bo = next(p.id for p in tx.profiles.list(ws, PAGE) if ("user_id", "bo") in p.identities)
        held = tx.audiences.memberships(ws, [ann, bo])
        timers = tx.audiences.timers(ws, [ann, bo])
    assert held == {ann: {"big", "big-se", "ordered"}, bo: {"ordered"}}
    assert _audience_events(db, ws) == sorted(
        [
            ("audience.entered", "big", ann),
            ("audience.entered", "big-se", ann),
            ("audience.entered", "ordered", ann),
            ("audience.entered", "ordered", bo),
        ]
    )
    # The big order leaves the window in a week; nothing else here changes by time alone.
    week_on = to_micros(clock.now()) + WEEK
    assert timers == {("big", ann): week_on, ("big-se", ann): week_on}

    _run(db, clock, ws, [_order(3, "ann", 500)])  # still a member: no new events
    assert len(_audience_events(db, ws)) == 4


def test_an_order_below_every_where_concerns_only_audiences_without_one(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = _setup(db, clock)
    _run(db, clock, ws, [_identify("ann", "SE"), _order(1, "ann", 50), _order(2, "ann", 500)])
    with db.read() as tx:
        index = AudienceIndex(tx, ws)
        pid = tx.profiles.list(ws, PAGE)[0].id
        orders = tx.events.named(ws, [pid], ["Order Completed"])[pid]
    small, large = orders
    # `recent-date` filters on a date operator (time moves it): every order may matter.
    assert index.affected(small) == {"ordered", "recent-date"}
    assert index.affected(large) == {"big", "big-se", "ordered", "recent-date"}
    # The consumer's own `audience.entered` events concern no audience: "big-se" inlines
    # "big" and was re-evaluated on the large order itself, in the same batch.
    with db.read() as tx:
        entered = tx.events.named(ws, [pid], ["audience.entered"])[pid]
        held = tx.audiences.memberships(ws, [pid])[pid]
    assert {str(e.properties["audience"]) for e in entered} == held >= {"big", "big-se"}
    assert [index.affected(e) for e in entered] == [set() for _ in entered]


def test_a_consumer_keeps_its_index_until_an_audience_or_a_group_changes(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = _setup(db, clock)
    cache = IndexCache()
    with db.read() as tx:
        first = cache.get(tx, ws)
    with db.read() as tx:
        assert cache.get(tx, ws) is first  # nothing changed: not built again
    with db.write() as tx:
        tx.consent.put_group(ws, "news", "email", GroupDefault.OPT_IN, "", clock.now())
    with db.read() as tx:
        second = cache.get(tx, ws)  # `subscribed` nodes compile in a group's default
    assert second is not first
    with db.write() as tx:
        tx.consent.put_group(ws, "news", "email", GroupDefault.OPT_OUT, "", clock.now())
    with db.read() as tx:
        third = cache.get(tx, ws)
    assert third is not second
    with db.write() as tx:
        tx.documents.delete(ws, "audience", "ordered")
    with db.read() as tx:
        fourth = cache.get(tx, ws)
    assert fourth is not third and "ordered" not in fourth.audiences


def test_one_consumer_follows_audiences_changed_between_its_batches(
    db: SqlDatabase, clock: FakeClock
) -> None:
    """The same consumer, batch after batch: an edited audience, and one deleted and
    created again (its version starts at 1 again), are evaluated as they are now."""
    ws = _setup(db, clock)
    consumer = AudienceConsumer(clock)
    kinds = KindRegistry(builtin_kinds())

    def run(events: list[NewEvent]) -> None:
        with db.write() as tx:
            tx.events.append(ws, events, clock.now())
        drain(db, clock, [IdentityStage(clock), consumer], limit=3)

    def held(user: str) -> set[str]:
        with db.read() as tx:
            pid = next(
                p.id for p in tx.profiles.list(ws, PAGE) if ("user_id", user) in p.identities
            )
            return tx.audiences.memberships(ws, [pid]).get(pid, set())

    run([_identify("ann", "SE"), _order(1, "ann", 150)])
    assert "ordered" in held("ann")
    three_orders = {
        "kind": "audience",
        "name": "ordered",
        "definition": {
            "performed": {"event": "Order Completed", "count": {"op": "gte", "value": 3}}
        },
    }
    with db.write() as tx:  # version 1 again, as the one the consumer compiled
        tx.documents.delete(ws, "audience", "ordered")
        apply_documents(tx, kinds, ws, [three_orders], clock.now())
        assert tx.documents.stamps(ws, "audience")["ordered"][1] == 1
    run([_order(2, "ann", 160)])  # two orders of the three it now takes: leaves
    assert "ordered" not in held("ann")
    once = {**three_orders, "definition": {"performed": {"event": "Order Completed"}}}
    with db.write() as tx:
        apply_documents(tx, kinds, ws, [once], clock.now())
    run([_order(3, "ann", 10)])
    assert "ordered" in held("ann")


def test_bulk_membership_changes_and_timers(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "Acme").workspace.id
    with db.write() as tx:
        tx.audiences.change(ws, [("a", "p1"), ("a", "p2"), ("b", "p1")], [], 5)
        tx.audiences.change(ws, [("a", "p1")], [("a", "p2"), ("c", "p9")], 6)  # add is idempotent
        tx.audiences.schedule([(ws, "a", "p1", 10), (ws, "b", "p1", 20), (ws, "a", "p1", 30)])
        tx.audiences.schedule([(ws, "b", "p1", 40)])
        tx.audiences.cancel([(ws, "a", "p1"), (ws, "zz", "p1")])
    with db.read() as tx:
        assert tx.audiences.memberships(ws, ["p1", "p2"]) == {"p1": {"a", "b"}}
        assert tx.audiences.timers(ws, ["p1"]) == {("b", "p1"): 40}
        # Exact pairs only: p1's membership of "a" is not asked for.
        asked = [("b", "p1"), ("a", "p2"), ("c", "p9"), ("b", "p2")]
        assert tx.audiences.state(ws, asked) == ({("b", "p1")}, {("b", "p1"): 40})
        assert tx.audiences.state(ws, []) == (set(), {})
        # Timers are looked up only for the audiences named timed.
        assert tx.audiences.state(ws, asked, timed={"a"}) == ({("b", "p1")}, {})
        assert tx.audiences.state(ws, asked, timed={"b"}) == ({("b", "p1")}, {("b", "p1"): 40})


def test_tracks_are_the_named_track_events_oldest_first(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "Acme").workspace.id
    events = [
        NewEvent(type="track", message_id="1", event="A", profile_id="p", properties={"n": 1}),
        NewEvent(type="page", message_id="2", event="A", profile_id="p"),
        NewEvent(type="track", message_id="3", event="B", profile_id="p"),
        NewEvent(type="track", message_id="4", event="A", profile_id="q", properties={"n": 2}),
        NewEvent(type="track", message_id="5", event="A", profile_id="p", properties={"n": 3}),
    ]
    with db.write() as tx:
        tx.events.append(ws, events, clock.now())
    with db.read() as tx:
        found = tx.events.tracks(ws, ["p", "q", "r"], ["A"])
    assert {pid: [(e.event, e.properties) for e in es] for pid, es in found.items()} == {
        "p": [("A", {"n": 1}), ("A", {"n": 3})],
        "q": [("A", {"n": 2})],
    }


BATCH_AUDIENCES: list[dict[str, Any]] = [
    {
        "kind": "audience",
        "name": "in-se",
        "definition": {"trait": {"path": "country", "op": "eq", "value": "SE"}},
    },
    {
        "kind": "audience",
        "name": "twice",
        "definition": {
            "performed": {
                "event": "Order Completed",
                "count": {"op": "gte", "value": 2},
                "within": {"last": 7, "unit": "days"},
            }
        },
    },
]


def _membership_story(db: SqlDatabase, clock: FakeClock, limit: int) -> list[tuple[str, str]]:
    """One person moving to Sweden, ordering twice and moving away, consumed `limit`
    events at a time: the membership events recorded, in order."""
    ws = create_workspace(db, clock, "Acme").workspace.id
    with db.write() as tx:
        apply_documents(tx, KindRegistry(builtin_kinds()), ws, BATCH_AUDIENCES, clock.now())
        moved = NewEvent(
            type="identify",
            message_id="moved",
            user_id="ann",
            payload={"traits": {"country": "NO"}},
            origin="secret_key",
        )
        story = [_identify("ann", "SE"), _order(1, "ann", 10), _order(2, "ann", 20), moved]
        tx.events.append(ws, story, clock.now())
    drain(db, clock, [IdentityStage(clock), AudienceConsumer(clock)], limit=limit)
    with db.read() as tx:
        pid = tx.profiles.list(ws, PAGE)[0].id
        held = tx.audiences.memberships(ws, [pid])
        timers = tx.audiences.timers(ws, [pid])
        found = tx.events.named(ws, [pid], ["audience.entered", "audience.exited"])[pid]
    assert held == {pid: {"twice"}}
    assert timers == {("twice", pid): to_micros(clock.now()) + WEEK}  # both orders leave then
    return [(e.event or "", e.properties["audience"]) for e in found]


def test_one_batch_evaluates_each_pair_once_on_its_final_state(
    db: SqlDatabase, clock: FakeClock
) -> None:
    # All four events in one batch: "in-se" held only in between, so nothing is recorded
    # for it; "twice" counts both orders of the batch and is entered once.
    assert _membership_story(db, clock, limit=100) == [("audience.entered", "twice")]


def test_batches_of_one_event_record_every_step(db: SqlDatabase, clock: FakeClock) -> None:
    assert _membership_story(db, clock, limit=1) == [
        ("audience.entered", "in-se"),
        ("audience.entered", "twice"),
        ("audience.exited", "in-se"),
    ]


def test_refreshed_statistics_tell_the_planner_the_tables_size(
    db: SqlDatabase, clock: FakeClock
) -> None:
    ws = create_workspace(db, clock, "Acme").workspace.id
    with db.write() as tx:
        tx.audiences.change(ws, [("a", f"p{i}") for i in range(50)], [], 5)
        tx.audiences.schedule([(ws, "a", f"p{i}", 10) for i in range(30)])
        tx.audiences.refresh_statistics()  # SQLite: nothing to do
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            sizes = dict(
                conn.exec_driver_sql(
                    "SELECT relname, reltuples FROM pg_class"
                    " WHERE relname IN ('audience_members', 'audience_timers')"
                ).all()
            )
        assert sizes == {"audience_members": 50, "audience_timers": 30}
