"""Action campaigns end to end: local time per recipient, waves, rate and time limit,
lifecycle and stop, test sends, reports from outcome events, bulk queueing."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from clarion.delivery.outcomes import outcome_event
from clarion.model.outcomes import Outcome
from clarion.storage.base import Page
from clarion.storage.schema import captured_messages
from clarion.testing import FakeClock
from tests.campaigns.helpers import SUBSCRIBERS, add_profiles, apply, get, post, run_campaigns
from tests.campaigns.helpers import template as make_template
from tests.conftest import WorkspaceKeys, drain_consumers

ZONES = {
    "kiri": "Pacific/Kiritimati",
    "tokyo": "Asia/Tokyo",
    "stockholm": "Europe/Stockholm",
    "new_york": "America/New_York",
    "honolulu": "Pacific/Honolulu",
    "none": None,
}


def people(app: FastAPI, ws: WorkspaceKeys, **zones: str | None) -> dict[str, str]:
    services = app.state.services
    ids = add_profiles(
        services.db,
        ws.id,
        [
            {"traits": {"first_name": name, "newsletter": True}, "timezone": zone}
            for name, zone in zones.items()
        ],
        services.clock.now(),
    )
    return dict(zip(zones, ids, strict=True))


def captured_at(app: FastAPI) -> dict[str, datetime]:
    """When each profile's message reached the capture provider."""
    with app.state.services.db.read() as tx:
        rows = tx.conn.execute(
            select(captured_messages.c.profile_id, captured_messages.c.created_at)
        )
        return {pid: at for pid, at in rows}


def campaign(client: TestClient, ws: WorkspaceKeys, **spec: Any) -> dict[str, Any]:
    body = {"kind": "campaign", "audience": "subscribers", "template": "digest", **spec}
    return dict(post(client, ws, "/v1/campaigns", body))


def test_local_time_sends_at_09_00_in_each_recipients_zone(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    ids = people(app, ws, **ZONES)
    campaign(
        client,
        ws,
        name="weekly-digest",
        schedule={
            "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
            "timezone": "Europe/Stockholm",
            "local_time": True,
        },
        rate={"per_second": 500},
    )
    state = post(client, ws, "/v1/campaigns/weekly-digest/activate")
    assert state["next_run_at"] == "2026-12-06T19:00:00+00:00"  # 09:00 in Kiritimati
    # Walk the clock through Sunday evening to Monday night, a quarter hour at a time.
    clock.set(datetime(2026, 12, 6, 18, 0, tzinfo=UTC))
    while clock.now() < datetime(2026, 12, 8, 0, 0, tzinfo=UTC):
        run_campaigns(app)
        clock.advance(minutes=15)
    got = captured_at(app)
    expected = {
        "kiri": datetime(2026, 12, 6, 19, 0, tzinfo=UTC),
        "tokyo": datetime(2026, 12, 7, 0, 0, tzinfo=UTC),
        "stockholm": datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        "new_york": datetime(2026, 12, 7, 14, 0, tzinfo=UTC),
        "honolulu": datetime(2026, 12, 7, 19, 0, tzinfo=UTC),
        "none": datetime(2026, 12, 7, 8, 0, tzinfo=UTC),  # the campaign's zone
    }
    assert {name: got[pid] for name, pid in ids.items()} == expected
    (run,) = get(client, ws, "/v1/campaigns/weekly-digest/runs")["items"]
    assert run["status"] == "completed" and run["counts"]["sent"] == 6
    assert run["snapshot"]["at"] == "2026-12-06T19:00:00Z"
    assert get(client, ws, "/v1/campaigns/weekly-digest")["next_run_at"] == (
        "2026-12-13T19:00:00+00:00"
    )


def test_local_time_across_the_spring_dst_weekends(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    """Daily at 02:30 local: on Stockholm's and New York's spring-forward nights that time
    does not exist and the message goes at 03:30 local; otherwise at 02:30."""
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    ids = people(app, ws, stockholm="Europe/Stockholm", new_york="America/New_York")
    clock.set(datetime(2027, 3, 13, 12, 0, tzinfo=UTC))
    campaign(
        client,
        ws,
        name="night-owl",
        schedule={
            "every": "daily",
            "time": "02:30",
            "timezone": "UTC",
            "local_time": True,
            "end": "2027-03-29",
        },
    )
    post(client, ws, "/v1/campaigns/night-owl/activate")
    while clock.now() < datetime(2027, 3, 29, 12, 0, tzinfo=UTC):
        run_campaigns(app)
        clock.advance(minutes=30)
    with app.state.services.db.read() as tx:
        rows = tx.conn.execute(
            select(captured_messages.c.profile_id, captured_messages.c.created_at)
        ).all()
    local = {
        name: sorted(
            at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            for pid, at in rows
            if pid == ids[name]
        )
        for name, zone in (("stockholm", "Europe/Stockholm"), ("new_york", "America/New_York"))
    }
    ny_spring, se_spring = datetime(2027, 3, 14), datetime(2027, 3, 28)
    for name, spring in (("new_york", ny_spring), ("stockholm", se_spring)):
        times = {t.date(): (t.hour, t.minute) for t in local[name]}
        assert times[spring.date()] == (3, 30), name
        others = {d: hm for d, hm in times.items() if d != spring.date()}
        assert set(others.values()) == {(2, 30)}, name
        assert len(local[name]) == len(times)  # one message per night


def test_waves_go_out_at_their_times(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    people(app, ws, **{f"p{i}": None for i in range(40)})
    campaign(client, ws, name="waves", waves={"count": 4, "interval": "1h"})
    post(client, ws, "/v1/campaigns/waves/activate")
    start = clock.now()
    sent = []
    for _hour in range(5):
        run_campaigns(app)
        sent.append(get(client, ws, "/v1/campaigns/waves/report")["totals"]["sent"])
        clock.advance(hours=1)
    assert sent == [10, 20, 30, 40, 40]
    assert {at - start for at in captured_at(app).values()} == {
        timedelta(hours=h) for h in range(4)
    }


def test_a_rate_cap_paces_the_send_and_the_time_limit_skips_the_rest(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    people(app, ws, **{f"p{i}": None for i in range(100)})
    campaign(client, ws, name="slow", rate={"per_second": 1}, time_limit="1m")
    post(client, ws, "/v1/campaigns/slow/activate")
    start = clock.now()
    for _ in range(70):
        run_campaigns(app)
        clock.advance(seconds=1)
    (run,) = get(client, ws, "/v1/campaigns/slow/runs")["items"]
    assert run["counts"]["sent"] == 61
    assert run["counts"]["skipped_by_reason"] == {"time_limit": 39}
    times = sorted(captured_at(app).values())
    assert times[0] == start and times[-1] == start + timedelta(seconds=60)
    per_second = {t: times.count(t) for t in times}
    assert max(per_second.values()) == 1


def test_lifecycle_draft_scheduled_running_completed_and_stop(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    people(app, ws, **{f"p{i}": None for i in range(30)})
    made = campaign(
        client,
        ws,
        name="monthly",
        schedule={"every": "daily", "time": "09:00", "timezone": "UTC"},
        waves={"count": 3, "interval": "2h"},
    )
    assert made["status"] == "draft"
    assert client.post("/v1/campaigns/monthly/stop", headers=ws.auth).status_code == 409
    assert post(client, ws, f"/v1/campaigns/{made['id']}/activate")["status"] == "scheduled"
    clock.set(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    run_campaigns(app)
    assert get(client, ws, "/v1/campaigns/monthly")["status"] == "running"
    refused = client.delete("/v1/documents/campaign/monthly", headers=ws.auth)
    assert refused.status_code == 409
    again = client.post("/v1/campaigns/monthly/activate", headers=ws.auth)
    assert again.status_code == 409 and again.json()["error"]["field"] == "campaign"
    stopped = post(client, ws, "/v1/campaigns/monthly/stop")
    assert stopped["status"] == "stopped" and stopped["next_run_at"] is None
    clock.advance(days=2)
    run_campaigns(app)
    (run,) = get(client, ws, "/v1/campaigns/monthly/runs")["items"]
    assert run["status"] == "stopped"
    assert run["counts"]["sent"] == 10
    assert run["counts"]["skipped_by_reason"] == {"stopped": 20}
    # A stopped campaign can be activated again (its next occurrence), and deleted once idle.
    assert post(client, ws, "/v1/campaigns/monthly/activate")["next_run_at"] == (
        "2026-12-06T09:00:00+00:00"
    )
    post(client, ws, "/v1/campaigns/monthly/stop")
    assert client.delete("/v1/documents/campaign/monthly", headers=ws.auth).status_code == 204


def test_a_past_at_or_an_exhausted_schedule_cannot_be_activated(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    campaign(client, ws, name="late", schedule={"at": "2026-12-01T09:00:00"})
    refused = client.post("/v1/campaigns/late/activate", headers=ws.auth)
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "schedule"
    assert client.post("/v1/campaigns/nope/activate", headers=ws.auth).status_code == 404


def test_send_now_and_test_sends_to_named_test_profiles(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    ids = people(app, ws, ann=None, bob=None)
    campaign(client, ws, name="now", test_profiles=[ids["ann"]], context={"note": "Hello!"})
    unknown = client.post(
        "/v1/campaigns/now/test", json={"profiles": ["email:nobody@x.org"]}, headers=ws.auth
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "profiles[0]"
    sent = post(client, ws, "/v1/campaigns/now/test", {})  # the campaign's test profiles
    assert [m["profile_id"] for m in sent["messages"]] == [ids["ann"]]
    run_campaigns(app)
    with app.state.services.db.read() as tx:
        rows = tx.conn.execute(select(captured_messages.c.source, captured_messages.c.text)).all()
    assert [(r.source["kind"], r.text) for r in rows] == [("test", "Hi ann. Hello!")]
    assert get(client, ws, "/v1/campaigns/now")["status"] == "draft"
    # Without a schedule, activation sends at once.
    assert post(client, ws, "/v1/campaigns/now/activate")["status"] == "running"
    run_campaigns(app)
    assert get(client, ws, "/v1/campaigns/now")["status"] == "completed"
    assert get(client, ws, "/v1/campaigns/now/report")["totals"]["sent"] == 2


def test_report_counts_delivered_opened_and_clicked_from_outcome_events(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    people(app, ws, **{f"p{i}": None for i in range(5)})
    campaign(client, ws, name="news")
    post(client, ws, "/v1/campaigns/news/activate")
    run_campaigns(app)
    services = app.state.services
    with services.db.read() as tx:
        (run,) = tx.campaigns.runs(ws.id, get(client, ws, "/v1/campaigns/news")["id"], 10)
        queued = [m for m in tx.outbox.list(ws.id, _page(), status="sent")]
    now = services.clock.now()
    events = []
    for n, item in enumerate(queued):
        events.append(outcome_event(item.intent, Outcome.DELIVERED, now))
        if n < 3:  # three open, one of them twice; one clicks
            events.append(outcome_event(item.intent, Outcome.OPENED, now, unique=True))
        if n == 0:
            events.append(outcome_event(item.intent, Outcome.OPENED, now, unique=True))
            events.append(outcome_event(item.intent, Outcome.CLICKED, now, unique=True))
    with services.db.write() as tx:
        tx.events.append(ws.id, events, now)
    drain_consumers(client)
    counts = get(client, ws, f"/v1/campaigns/news/runs/{run.id}")["counts"]
    assert (counts["sent"], counts["delivered"], counts["opened"], counts["clicked"]) == (
        5,
        5,
        3,
        1,
    )


def _page() -> Page:
    return Page(limit=100)


@contextmanager
def counting_writes(app: FastAPI) -> Any:
    db = app.state.services.db
    original = db.write
    calls = [0]

    def write() -> Any:
        calls[0] += 1
        return original()

    db.write = write
    try:
        yield calls
    finally:
        db.write = original


def test_recipients_are_queued_in_bulk_not_one_transaction_each(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    people(app, ws, **{f"p{i}": None for i in range(12_000)})
    campaign(client, ws, name="bulk")
    post(client, ws, "/v1/campaigns/bulk/activate")
    with counting_writes(app) as writes:
        run_campaigns(app, send=False)
    (run,) = get(client, ws, "/v1/campaigns/bulk/runs")["items"]
    assert run["counts"]["queued"] == 12_000
    assert writes[0] < 20  # 12,000 recipients: a few snapshot and queue transactions


def test_messages_held_back_past_the_time_limit_are_skipped(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    """Quiet hours hold the message until 08:00; with a one-hour limit it never goes."""
    settings = {
        "settings": {"quiet_hours": [{"start": "21:00", "end": "08:00", "action": "defer"}]}
    }
    assert client.put("/v1/workspace/settings", json=settings, headers=ws.auth).status_code == 200
    apply(client, ws, SUBSCRIBERS, make_template("digest"))
    people(app, ws, **{f"p{i}": None for i in range(3)})
    campaign(
        client,
        ws,
        name="late",
        time_limit="1h",
        schedule={"at": "2026-12-07T22:00:00", "timezone": "UTC"},
    )
    post(client, ws, "/v1/campaigns/late/activate")
    clock.set(datetime(2026, 12, 7, 22, 0, tzinfo=UTC))
    run_campaigns(app)
    clock.set(datetime(2026, 12, 7, 23, 0, 1, tzinfo=UTC))
    run_campaigns(app)
    clock.set(datetime(2026, 12, 8, 8, 0, tzinfo=UTC))
    run_campaigns(app)
    (run,) = get(client, ws, "/v1/campaigns/late/runs")["items"]
    assert run["status"] == "completed"
    assert run["counts"]["sent"] == 0
    assert run["counts"]["skipped_by_reason"] == {"time_limit": 3}
    assert captured_at(app) == {}
