"""The brief's action campaign: "Monday 9 AM -> newsletter to 100,000 subscribers -> all
receive it", scheduled in Europe/Stockholm on a fake clock; then its weekly sibling."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clarion.storage.schema import captured_messages, outbox
from clarion.testing import FakeClock
from tests.campaigns.helpers import (
    CHURNED,
    SUBSCRIBERS,
    add_profiles,
    apply,
    get,
    post,
    run_campaigns,
    template,
)
from tests.conftest import WorkspaceKeys, make_workspace

ISSUE_CAMPAIGNS = (Path(__file__).parent / "issue_campaigns.yaml").read_text()
"""The three campaign documents of the issue, verbatim."""

MONDAY_9_STOCKHOLM = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 CET


def setup_newsletter(app: FastAPI, client: TestClient, ws: WorkspaceKeys, n: int) -> dict:
    """n subscribers: every 10th unsubscribed, every 25th churned; 50 non-subscribers."""
    apply(
        client,
        ws,
        SUBSCRIBERS,
        CHURNED,
        template("newsletter-december", "December news for {{ profile.first_name }}"),
        template("weekly-digest"),
        template("order-confirmation"),
    )
    services = app.state.services
    people = [
        {
            "traits": {"first_name": f"P{i}", "newsletter": True, "churned": i % 25 == 0},
            "unsubscribed": i % 10 == 0,
        }
        for i in range(n)
    ]
    people += [{"traits": {"first_name": f"X{i}", "newsletter": False}} for i in range(50)]
    ids = add_profiles(services.db, ws.id, people, services.clock.now())
    docs = list(yaml.safe_load_all(ISSUE_CAMPAIGNS))
    response = client.post(
        "/v1/apply",
        content=ISSUE_CAMPAIGNS.encode(),
        headers={**ws.auth, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    churned = sum(1 for i in range(n) if i % 25 == 0)
    unsubscribed = sum(1 for i in range(n) if i % 10 == 0 and i % 25 != 0)
    return {
        "ids": ids[:n],
        "docs": docs,
        "targeted": n,
        "excluded": churned,
        "unsubscribed": unsubscribed,
        "sent": n - churned - unsubscribed,
    }


def captured_per_profile(app: FastAPI) -> Counter[str]:
    with app.state.services.db.read() as tx:
        rows = tx.conn.execute(
            select(captured_messages.c.profile_id, func.count()).group_by(
                captured_messages.c.profile_id
            )
        )
        return Counter({pid: int(n) for pid, n in rows})


def check_newsletter(app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock, n: int):
    expected = setup_newsletter(app, client, ws, n)
    state = post(client, ws, "/v1/campaigns/monday-newsletter/activate")
    assert state["status"] == "scheduled"
    assert state["next_run_at"] == "2026-12-07T08:00:00+00:00"
    run_campaigns(app)
    assert get(client, ws, "/v1/campaigns/monday-newsletter/runs")["items"] == []

    clock.set(MONDAY_9_STOCKHOLM - timedelta(seconds=1))
    run_campaigns(app)
    assert get(client, ws, "/v1/campaigns/monday-newsletter/runs")["items"] == []
    clock.set(MONDAY_9_STOCKHOLM)
    run_campaigns(app)

    (run,) = get(client, ws, "/v1/campaigns/monday-newsletter/runs")["items"]
    assert run["status"] == "completed"
    assert run["snapshot"]["at"] == "2026-12-07T08:00:00Z"
    counts = run["counts"]
    assert counts["targeted"] == expected["targeted"]
    assert counts["excluded"] == expected["excluded"]
    assert counts["recipients"] == expected["targeted"] - expected["excluded"]
    assert run["snapshot"]["count"] == counts["recipients"]
    assert counts["sent"] == expected["sent"]
    assert counts["skipped_by_reason"] == {"unsubscribed": expected["unsubscribed"]}
    assert counts["failed"] == 0 and counts["pending"] == 0

    per_profile = captured_per_profile(app)
    assert set(per_profile.values()) == {1}  # exactly once each
    assert len(per_profile) == expected["sent"]
    # Recipients due together are sent in profile order, with message ids that follow
    # each other (one run's prefix, then the position): index writes stay together.
    with app.state.services.db.read() as tx:
        rows = tx.conn.execute(select(outbox.c.id, outbox.c.profile_id).order_by(outbox.c.id)).all()
    assert [r.profile_id for r in rows] == sorted(r.profile_id for r in rows)
    assert len({r.id[:24] for r in rows}) == 1
    assert [int(r.id[24:], 16) for r in rows] == list(range(len(rows)))
    assert get(client, ws, "/v1/campaigns/monday-newsletter")["status"] == "completed"

    # Nothing more happens: a one-off campaign has no next run.
    clock.advance(days=8)
    run_campaigns(app)
    assert len(get(client, ws, "/v1/campaigns/monday-newsletter/runs")["items"]) == 1
    report = get(client, ws, "/v1/campaigns/monday-newsletter/report")
    assert report["totals"]["sent"] == expected["sent"]


def test_the_issue_documents_are_accepted_as_yaml_and_as_json(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    expected = setup_newsletter(app, client, ws, 10)
    other = make_workspace(app, "Other")
    apply(
        client,
        other,
        SUBSCRIBERS,
        CHURNED,
        *(template(n) for n in ("newsletter-december", "weekly-digest", "order-confirmation")),
    )
    for doc in expected["docs"]:
        response = client.post("/v1/campaigns", json=doc, headers=other.auth)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "draft"
    again = client.post("/v1/campaigns", json=expected["docs"][0], headers=other.auth)
    assert again.status_code == 200
    listed = get(client, other, "/v1/campaigns")["items"]
    assert {c["name"]: c["type"] for c in listed} == {
        "monday-newsletter": "action",
        "weekly-digest": "action",
        "order-confirmation": "api",
    }
    by_id = get(client, other, f"/v1/campaigns/{listed[0]['id']}")
    assert by_id["name"] == listed[0]["name"]


def test_monday_newsletter_sends_once_to_every_subscriber(
    both_app: FastAPI, clock: FakeClock
) -> None:
    with TestClient(both_app) as client:
        ws = make_workspace(both_app)
        check_newsletter(both_app, client, ws, clock, 1000)


@pytest.mark.slow
def test_monday_newsletter_to_100_000_subscribers_queues_one_intent_each(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    """At the brief's scale: the snapshot's counts, and exactly one intent per recipient
    (the pipeline's own verdicts are checked on 1,000 above, on both backends)."""
    expected = setup_newsletter(app, client, ws, 100_000)
    post(client, ws, "/v1/campaigns/monday-newsletter/activate")
    clock.set(MONDAY_9_STOCKHOLM)
    run_campaigns(app, send=False)
    (run,) = get(client, ws, "/v1/campaigns/monday-newsletter/runs")["items"]
    counts = run["counts"]
    assert (counts["targeted"], counts["excluded"]) == (100_000, expected["excluded"])
    assert counts["queued"] == counts["pending"] == 100_000 - expected["excluded"]
    with app.state.services.db.read() as tx:
        rows = tx.conn.execute(
            select(outbox.c.profile_id, func.count()).group_by(outbox.c.profile_id)
        ).all()
    per_profile = {pid: n for pid, n in rows}
    churned = {pid for i, pid in enumerate(expected["ids"]) if i % 25 == 0}
    assert set(per_profile) == set(expected["ids"]) - churned
    assert set(per_profile.values()) == {1}


def test_weekly_recurrence_produces_the_next_run(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    setup_newsletter(app, client, ws, 20)
    doc = {
        "kind": "campaign",
        "name": "monday-digest",
        "audience": "subscribers",
        "template": "weekly-digest",
        "schedule": {
            "every": "weekly",
            "days": ["mon"],
            "time": "09:00",
            "timezone": "Europe/Stockholm",
            "end": "2026-12-31",
        },
    }
    post(client, ws, "/v1/campaigns", doc)
    assert post(client, ws, "/v1/campaigns/monday-digest/activate")["next_run_at"] == (
        "2026-12-07T08:00:00+00:00"
    )
    mondays = [datetime(2026, 12, d, 8, 0, tzinfo=UTC) for d in (7, 14, 21, 28)]
    for week, monday in enumerate(mondays, start=1):
        clock.set(monday)
        run_campaigns(app)
        runs = get(client, ws, "/v1/campaigns/monday-digest/runs")["items"]
        assert len(runs) == week
        assert runs[0]["status"] == "completed" and runs[0]["counts"]["sent"] == 18
        state = get(client, ws, "/v1/campaigns/monday-digest")
        if week < 4:
            assert state["status"] == "scheduled"
            assert state["next_run_at"] == (monday + timedelta(days=7)).isoformat()
    assert get(client, ws, "/v1/campaigns/monday-digest")["status"] == "completed"
    assert set(captured_per_profile(app).values()) == {4}  # one message per run each
