"""The issue's schema and canvases, accepted as written, calculated and run on DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.delivery.harness import deliver
from tests.orchestrated.hotel_data import HERE, HotelChain, generate, store_profiles


def setup_chain(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> tuple[HotelChain, dict[str, str]]:
    """Apply the issue's documents as YAML, load hotels as CSV and bookings as JSON."""
    body = (
        (HERE / "templates.yaml").read_text()
        + "\n---\n"
        + (HERE / "issue_documents.yaml").read_text()
    )
    applied = client.post(
        "/v1/apply", content=body, headers={**ws.auth, "content-type": "application/yaml"}
    )
    assert applied.status_code == 200, applied.text
    chain = generate(clock.now().date())
    ids = store_profiles(app.state.services.db, ws.id, chain, clock.now())
    csv = "hotel_id,name,region,city\n" + "".join(
        f"{h['hotel_id']},{h['name']},{h['region']},{h['city']}\n" for h in chain.hotels
    )
    loaded = client.post(
        "/v1/data/hotels", content=csv, headers={**ws.auth, "content-type": "text/csv"}
    )
    assert loaded.json() == {"entity": "hotels", "rows": len(chain.hotels), "mode": "replace"}
    half = len(chain.bookings) // 2
    for mode, rows in (("replace", chain.bookings[:half]), ("append", chain.bookings[half:])):
        loaded = client.post(f"/v1/data/bookings?mode={mode}", json=rows, headers=ws.auth)
        assert loaded.status_code == 200, loaded.text
    return chain, ids


def _midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def expected_pre_arrival(
    chain: HotelChain, now: datetime, ids: dict[str, str]
) -> tuple[set[str], set[str]]:
    """(bookings that flow, bookings whose guest may get the email), by hand."""
    nordic = {h["hotel_id"] for h in chain.hotels if h["region"] == "Nordics"}
    flows = {
        b["booking_id"]
        for b in chain.bookings
        if now <= _midnight(b["check_in"]) < now + timedelta(days=7)
        and b["status"] == "confirmed"
        and b["hotel_id"] in nordic
    }
    reachable = {p["user_id"] for p in chain.profiles if p["email"] and not p["unsubscribed"]}
    by_id = {b["booking_id"]: b for b in chain.bookings}
    eligible = {
        k for k in flows if by_id[k]["customer_id"] in reachable and by_id[k]["customer_id"] in ids
    }
    return flows, eligible


def test_pre_arrival_counts_equal_the_intents_of_the_run(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    chain, ids = setup_chain(app, client, ws, clock)
    flows, eligible = expected_pre_arrival(chain, clock.now(), ids)
    assert len(eligible) >= 10 and eligible < flows  # the data has someone to skip

    calc = client.post("/v1/canvases/pre-arrival/calculate", headers=ws.auth)
    assert calc.status_code == 200, calc.text
    found = calc.json()
    assert found["counts"] == {"upcoming": len(flows), "send": len(flows)}
    assert found["eligible"] == {"send": len(eligible)}
    assert {r["_pk"] for r in found["previews"]["upcoming"]} <= flows
    assert found["previews"]["upcoming"][0]["hotel_id"].startswith("h")

    run = client.post("/v1/canvases/pre-arrival/run?wait=true", headers=ws.auth)
    assert run.status_code == 202, run.text
    done = run.json()
    assert done["status"] == "completed"
    assert done["calculation"] == found["id"]  # the calculation's snapshot
    assert done["sending"] == {"send": {"total": len(eligible), "queued": len(eligible)}}

    with app.state.services.db.read() as tx:
        assert sum(tx.outbox.counts(ws.id).values()) == len(eligible)
    stats = deliver(app)
    assert stats.sent == len(eligible)
    captured = client.get("/v1/outbox", params={"limit": 1000}, headers=ws.auth).json()["items"]
    assert len(captured) == len(eligible)
    first = captured[0]
    assert "See you on 2026-01-" in first["subject"] and " at Hotel " in first["subject"]
    assert first["text"].startswith("Hi Guest")

    again = client.post("/v1/canvases/pre-arrival/run?wait=true", headers=ws.auth).json()
    assert again["sending"]["send"]["total"] == len(eligible)  # a new run sends again, once


def test_loyal_guests_split_counts(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    chain, _ids = setup_chain(app, client, ws, clock)
    now = clock.now()
    recent: dict[str, int] = {}
    for b in chain.bookings:
        if now - timedelta(days=365) < _midnight(b["check_in"]) <= now:
            recent[b["customer_id"]] = recent.get(b["customer_id"], 0) + 1
    loyal = {p["user_id"] for p in chain.profiles if recent.get(p["user_id"], 0) >= 2}
    country = {p["user_id"]: p["country"] for p in chain.profiles}
    nordic = {u for u in loyal if country[u] in ("SE", "NO", "DK", "FI")}
    found = client.post("/v1/canvases/loyal-guests-winter/calculate", headers=ws.auth).json()
    assert found["counts"]["loyal"] == len(loyal)
    assert found["counts"]["by-region.nordic"] == len(nordic)
    assert found["counts"]["by-region.complement"] == len(loyal - nordic)
    assert found["counts"]["nordic-offer"] == len(nordic)
    reachable = {p["user_id"] for p in chain.profiles if p["email"] and not p["unsubscribed"]}
    assert found["eligible"] == {
        "nordic-offer": len(nordic & reachable),
        "other-offer": len((loyal - nordic) & reachable),
    }
    assert found["freshness"]["profiles_as_of"] is not None


def test_code_view_binds_literals(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup_chain(app, client, ws, clock)
    found = client.get("/v1/canvases/pre-arrival/sql", headers=ws.auth).json()
    sql = found["steps"]["upcoming"]["sql"]
    assert "Nordics" not in sql and "confirmed" not in sql
    assert "Nordics" in found["steps"]["upcoming"]["params"].values()
    assert found["engine"] == "duckdb"


def _documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((HERE / "issue_documents.yaml").read_text()) if d]
