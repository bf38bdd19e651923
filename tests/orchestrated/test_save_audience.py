"""Save audience: a run stores the working set's profiles as a list audience, replaces
them on the next run with entered/exited events, and campaigns can target it by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.campaigns.audience import snapshot
from clarion.campaigns.spec import parse_campaign
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.orchestrated.hotel_data import HotelChain
from tests.orchestrated.test_issue_canvases import setup_chain

ARRIVING = {
    "kind": "canvas",
    "name": "arriving-soon",
    "activities": [
        {
            "id": "upcoming",
            "type": "build_audience",
            "dimension": "bookings",
            "filter": {
                "all": [
                    {
                        "attribute": {
                            "path": "check_in",
                            "op": "within_next",
                            "value": {"next": 7, "unit": "days"},
                        }
                    },
                    {"attribute": {"path": "status", "op": "eq", "value": "confirmed"}},
                ]
            },
            "next": "guests",
        },
        {"id": "guests", "type": "change_dimension", "to": "profiles", "next": "keep"},
        {"id": "keep", "type": "save_audience", "audience": "arriving-guests", "next": "done"},
        {"id": "done", "type": "end"},
    ],
}


def _arriving(bookings: list[dict[str, Any]], now: datetime, ids: dict[str, str]) -> set[str]:
    """The profile ids of guests with a confirmed booking checking in within 7 days."""
    found = set()
    for b in bookings:
        check_in = datetime.fromisoformat(b["check_in"]).replace(tzinfo=UTC)
        upcoming = now <= check_in < now + timedelta(days=7)
        if upcoming and b["status"] == "confirmed" and b["customer_id"] in ids:
            found.add(ids[b["customer_id"]])
    return found


def _members(client: TestClient, ws: WorkspaceKeys, audience: str) -> set[str]:
    answer = client.get(
        f"/v1/audiences/{audience}/members", params={"limit": 1000}, headers=ws.auth
    )
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def _membership_events(app: FastAPI, ws: WorkspaceKeys, ids: dict[str, str]) -> list[Any]:
    with app.state.services.db.read() as tx:
        found = tx.events.named(ws.id, list(ids.values()), ["audience.entered", "audience.exited"])
    return [e for events in found.values() for e in events]


def _changed(chain: HotelChain, before: set[str], ids: dict[str, str]) -> list[dict[str, Any]]:
    """Half of the arriving guests cancel; some guests without a booking book for tomorrow."""
    owner = {pid: uid for uid, pid in ids.items()}
    leaving = {owner[p] for p in sorted(before)[::2]}
    rows = [
        {**b, "status": "cancelled"} if b["customer_id"] in leaving else b for b in chain.bookings
    ]
    tomorrow = (chain.today + timedelta(days=1)).isoformat()
    newcomers = sorted(set(ids) - {owner[p] for p in before})[:5]
    for i, uid in enumerate(newcomers):
        rows.append(
            {**chain.bookings[0], "booking_id": f"new{i}", "customer_id": uid}
            | {"check_in": tomorrow, "status": "confirmed"}
        )
    return rows


def test_a_run_saves_the_working_set_and_the_next_run_replaces_it(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    chain, ids = setup_chain(app, client, ws, clock)
    applied = client.post("/v1/apply", json=[ARRIVING], headers=ws.auth)
    assert applied.status_code == 200, applied.text
    first = _arriving(chain.bookings, clock.now(), ids)
    assert len(first) >= 10

    calc = client.post("/v1/canvases/arriving-soon/calculate", headers=ws.auth).json()
    assert calc["counts"]["keep"] == len(first)
    assert client.get("/v1/audiences/arriving-guests", headers=ws.auth).status_code == 404

    run = client.post("/v1/canvases/arriving-soon/run?wait=true", headers=ws.auth).json()
    assert run["status"] == "completed", run
    assert run["saved"] == {
        "keep": {"audience": "arriving-guests", "count": len(first), "entered": len(first)}
        | {"exited": 0}
    }
    audience = client.get("/v1/audiences/arriving-guests", headers=ws.auth).json()
    assert (audience["type"], audience["count"], audience["status"]) == (
        "list",
        len(first),
        "ready",
    )
    assert _members(client, ws, "arriving-guests") == first
    events = _membership_events(app, ws, ids)
    assert {e.profile_id for e in events} == first
    assert {(e.event, e.properties["audience"]) for e in events} == {
        ("audience.entered", "arriving-guests")
    }

    reread = {
        "kind": "canvas",
        "name": "saved-guests",
        "activities": [
            {"id": "saved", "type": "build_audience", "audience": "arriving-guests"},
        ],
    }
    assert client.post("/v1/apply", json=[reread], headers=ws.auth).status_code == 200
    calc = client.post("/v1/canvases/saved-guests/calculate", headers=ws.auth).json()
    assert calc["counts"] == {"saved": len(first)}

    campaign = {"kind": "campaign", "name": "welcome", "audience": "arriving-guests"}
    campaign["template"] = "winter-general"
    applied = client.post("/v1/apply", json=[campaign], headers=ws.auth)
    assert applied.status_code == 200, applied.text
    with app.state.services.db.read() as tx:
        targeted = snapshot(tx, ws.id, parse_campaign(campaign), clock.now())
    assert set(targeted.members) == first

    changed = _changed(chain, first, ids)
    loaded = client.post("/v1/data/bookings", json=changed, headers=ws.auth)
    assert loaded.status_code == 200, loaded.text
    second = _arriving(changed, clock.now(), ids)
    assert first - second and second - first
    clock.advance(seconds=60)
    calc = client.post("/v1/canvases/arriving-soon/calculate", headers=ws.auth).json()
    assert calc["counts"]["keep"] == len(second)  # the run that follows reads this snapshot
    again = client.post("/v1/canvases/arriving-soon/run?wait=true", headers=ws.auth).json()
    assert again["saved"]["keep"] == {
        "audience": "arriving-guests",
        "count": len(second),
        "entered": len(second - first),
        "exited": len(first - second),
    }
    assert _members(client, ws, "arriving-guests") == second
    later = [e for e in _membership_events(app, ws, ids) if e.timestamp_us > events[0].timestamp_us]
    assert {e.profile_id for e in later if e.event == "audience.entered"} == second - first
    assert {e.profile_id for e in later if e.event == "audience.exited"} == first - second
    with app.state.services.db.read() as tx:
        targeted = snapshot(tx, ws.id, parse_campaign(campaign), clock.now())
    assert set(targeted.members) == second

    rerun = client.post("/v1/canvases/arriving-soon/run?wait=true", headers=ws.auth).json()
    assert rerun["saved"]["keep"]["entered"] == rerun["saved"]["keep"]["exited"] == 0


def test_saving_into_a_dynamic_audience_is_refused_with_the_activity_id(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup_chain(app, client, ws, clock)
    dynamic = {
        "kind": "audience",
        "name": "arriving-guests",
        "definition": {"trait": {"path": "country", "op": "eq", "value": "SE"}},
    }
    answer = client.post("/v1/apply", json=[dynamic, ARRIVING], headers=ws.auth)
    assert answer.status_code == 400, answer.text
    assert "keep.audience" in answer.text and "dynamic audience" in answer.text
    twice = {
        "kind": "canvas",
        "name": "saved-twice",
        "activities": [
            {"id": "all", "type": "build_audience", "next": ["one", "two"]},
            {"id": "one", "type": "save_audience", "audience": "everyone", "next": "done"},
            {"id": "two", "type": "save_audience", "audience": "everyone", "next": "done"},
            {"id": "done", "type": "end"},
        ],
    }
    answer = client.post("/v1/apply", json=[twice], headers=ws.auth)
    assert answer.status_code == 400, answer.text
    assert "two.audience" in answer.text and "saved twice" in answer.text


def test_a_run_refuses_to_overwrite_a_dynamic_audience_made_after_the_canvas(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup_chain(app, client, ws, clock)
    assert client.post("/v1/apply", json=[ARRIVING], headers=ws.auth).status_code == 200
    dynamic = {"name": "arriving-guests", "definition": {"identity": {"namespace": "email"}}}
    assert client.post("/v1/audiences", json=dynamic, headers=ws.auth).status_code == 201
    run = client.post("/v1/canvases/arriving-soon/run?wait=true", headers=ws.auth).json()
    assert run["status"] == "failed"
    assert "keep.audience" in run["error"] and "dynamic audience" in run["error"]
