"""Identity resolution and merge rules, through the log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clarion.model.events import NewEvent
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace
from tests.profiles.helpers import Log


@pytest.fixture
def log(db: SqlDatabase, clock: FakeClock) -> Log:
    return Log(db, clock, create_workspace(db, clock, "shop").workspace.id)


def profile(log: Log, pid: str | None):  # type: ignore[no-untyped-def]
    assert pid is not None
    with log.db.read() as tx:
        record = tx.profiles.get(log.ws, pid)
    assert record is not None
    return record


def test_anonymous_then_identified_is_one_profile(log: Log) -> None:
    first = log.send(anon="a1", event="Product Viewed")
    log.process()
    anonymous = log.profile_of("anonymous_id", "a1")
    assert log.stamped(first) == anonymous
    log.send("identify", user="u1", anon="a1", traits={"email": "Ann@Example.com", "name": "Ann"})
    after = log.send(anon="a1", event="Cart Viewed")
    log.process()
    assert log.profile_of("user_id", "u1") == anonymous
    assert log.stamped(after) == anonymous
    record = profile(log, anonymous)
    assert record.identities == {
        ("user_id", "u1"),
        ("anonymous_id", "a1"),
        ("email", "ann@example.com"),
    }
    assert record.traits == {"email": "Ann@Example.com", "name": "Ann"}
    assert log.count("profiles") == 1


def test_anonymous_profile_merges_into_the_known_user(log: Log) -> None:
    log.send("identify", user="u1", anon="laptop", traits={"plan": "pro"})
    log.process()
    known = log.profile_of("user_id", "u1")
    early = log.send(anon="phone", event="App Opened")
    log.send("identify", anon="phone", traits={"plan": "free", "city": "Lund"})
    log.process()
    phone = log.profile_of("anonymous_id", "phone")
    assert phone != known
    log.clock.advance(minutes=1)
    log.send("identify", user="u1", anon="phone")
    late = log.send(anon="phone", event="Late Event")
    log.process()
    assert log.profile_of("anonymous_id", "phone") == known
    assert log.stamped(early) == known  # past events follow the survivor
    assert log.stamped(late) == known
    assert log.count("profiles") == 1
    merged = log.events_named("profile.merged")
    assert merged[0]["profile_id"] == known
    assert merged[0]["properties"]["merged_id"] == phone
    # The newer write of each trait wins.
    assert profile(log, known).traits == {"plan": "free", "city": "Lund"}


def test_shared_device_keeps_two_users_apart(log: Log) -> None:
    x_event = log.send("identify", user="x", anon="kiosk", traits={"name": "X"})
    log.process()
    log.send("identify", user="y", anon="kiosk", traits={"name": "Y"})
    after = log.send(anon="kiosk", event="Page Viewed")
    log.process()
    px, py = log.profile_of("user_id", "x"), log.profile_of("user_id", "y")
    assert px is not None and py is not None and px != py
    assert log.profile_of("anonymous_id", "kiosk") == py  # moved to the newer user
    assert log.stamped(after) == py
    assert log.stamped(x_event) == px
    assert profile(log, px).traits == {"name": "X"}
    assert profile(log, py).traits == {"name": "Y"}
    refused = log.events_named("profile.merge_refused")
    assert [r["profile_id"] for r in refused] == [py]
    assert refused[0]["properties"]["other_profile_id"] == px


def test_alias_links_a_previous_id(log: Log) -> None:
    before = log.send(anon="old-anon", event="Signed Up")
    log.process()
    log.send("alias", user="u9", previous="old-anon")
    log.process()
    assert log.profile_of("user_id", "u9") == log.stamped(before)
    # An alias from a former user id to a new one never merges two user ids.
    log.send("identify", user="legacy-7")
    log.send("alias", user="u9", previous="legacy-7")
    log.process()
    assert log.profile_of("user_id", "legacy-7") != log.profile_of("user_id", "u9")


def test_traits_last_write_wins_by_event_time_and_null_removes(log: Log) -> None:
    now = log.clock.now()
    log.send("identify", user="u", traits={"tier": "gold", "nick": "A"}, at=now)
    log.send("identify", user="u", traits={"tier": "silver"}, at=now - timedelta(hours=1))
    log.send("identify", user="u", traits={"nick": None}, at=now + timedelta(seconds=1))
    log.send("identify", user="u", traits={"nick": "stale"}, at=now - timedelta(days=1))
    log.process()
    record = profile(log, log.profile_of("user_id", "u"))
    assert record.traits == {"tier": "gold"}


def test_time_zone_and_locale_come_from_context(log: Log) -> None:
    log.send("identify", user="u", context={"timezone": "Europe/Stockholm", "locale": "sv-SE"})
    log.send(user="u", context={"timezone": "Mars/Olympus"})
    log.process()
    record = profile(log, log.profile_of("user_id", "u"))
    assert (record.timezone, record.locale) == ("Europe/Stockholm", "sv-SE")


def test_email_is_a_lookup_identity_unless_the_workspace_opts_in(log: Log) -> None:
    log.send("identify", user="u1", traits={"email": "a@b.c"})
    log.send("identify", anon="stranger", traits={"email": "a@b.c"})
    log.process()
    assert log.profile_of("anonymous_id", "stranger") != log.profile_of("user_id", "u1")
    assert log.profile_of("email", "a@b.c") == log.profile_of("user_id", "u1")
    with log.db.write() as tx:
        tx.workspaces.set_settings(log.ws, {"identity": {"merge_on": ["email"]}})
    log.send("identify", anon="stranger", traits={"email": "a@b.c"})
    log.process()
    assert log.profile_of("anonymous_id", "stranger") == log.profile_of("user_id", "u1")
    assert log.count("profiles") == 1


def test_placeholder_ids_never_link_people(log: Log) -> None:
    log.send("identify", user="u1", anon="null")
    log.send("identify", user="u2", anon="null")
    log.process()
    assert log.profile_of("user_id", "u1") != log.profile_of("user_id", "u2")
    assert log.profile_of("anonymous_id", "null") is None


def test_anonymous_id_limit_stops_runaway_merges(log: Log) -> None:
    with log.db.write() as tx:
        tx.workspaces.set_settings(log.ws, {"identity": {"limits": {"anonymous_id": 3}}})
    for n in range(5):
        log.send("identify", user="bot", anon=f"a{n}")
    log.process()
    record = profile(log, log.profile_of("user_id", "bot"))
    assert record.values("anonymous_id") == ["a0", "a1", "a2"]
    assert len(log.events_named("profile.merge_refused")) == 2
    # A merge that would pass the limit is refused too.
    log.send(anon="b1")
    log.process()
    log.send("identify", user="bot", anon="b1")
    log.process()
    assert log.profile_of("anonymous_id", "b1") != log.profile_of("user_id", "bot")


def test_redelivered_batch_is_not_applied_twice(log: Log, db: SqlDatabase) -> None:
    log.send("identify", user="u", anon="a")
    log.process()
    log.process()
    assert log.count("profiles") == 1
    assert log.count("identities") == 2


def test_secret_key_events_may_change_consent(log: Log) -> None:
    log.send(
        "identify",
        user="u",
        context={"consent": {"email": "unsubscribed", "sms:alerts": "subscribed"}},
        origin="secret_key",
    )
    log.send("identify", user="u", context={"consent": {"push": "unsubscribed"}})
    log.process()
    with log.db.read() as tx:
        states = tx.consent.profile_states(log.ws, log.profile_of("user_id", "u") or "")
    assert {(s.channel, s.group, s.status.value) for s in states} == {
        ("email", "", "unsubscribed"),
        ("sms", "alerts", "subscribed"),
    }


def test_own_events_of_a_merged_away_profile_follow_the_survivor(log: Log) -> None:
    log.send("identify", user="u1", anon="laptop")
    log.send("identify", anon="phone")
    log.process()
    known, phone = log.profile_of("user_id", "u1"), log.profile_of("anonymous_id", "phone")
    log.send("identify", user="u1", anon="phone")
    log.process()
    assert known is not None and phone is not None and phone != known
    # Clarion's own events name their profile; one batch holds both kinds.
    with log.db.write() as tx:
        tx.events.append(
            log.ws,
            [
                NewEvent(
                    type="track", message_id=f"own-{pid}", event="journey.entered", profile_id=pid
                )
                for pid in (phone, known)
            ],
            log.clock.now(),
        )
    log.process()
    assert log.stamped(f"own-{phone}") == known
    assert log.stamped(f"own-{known}") == known
