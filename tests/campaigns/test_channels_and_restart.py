"""Action campaigns on other channels, and a schedule that outlives the process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.campaigns.helpers import SUBSCRIBERS, add_profiles, apply, get, post, run_campaigns
from tests.conftest import WorkspaceKeys, make_workspace, settings_for_tests

TEMPLATES = {
    "sms": {"channel": "sms", "body": "Hi {{ profile.first_name }}, 20% off today"},
    "push": {"channel": "push", "title": "Sale", "body": "Hi {{ profile.first_name }}"},
    "in_app": {"channel": "in_app", "html": "<p>Hi {{ profile.first_name }}</p>"},
    "content_card": {"channel": "content_card", "title": "Hi {{ profile.first_name }}"},
}


@pytest.mark.parametrize("channel", sorted(TEMPLATES))
def test_an_action_campaign_sends_on_other_channels(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, channel: str
) -> None:
    apply(client, ws, SUBSCRIBERS, {"kind": "template", "name": "t", **TEMPLATES[channel]})
    services = app.state.services
    ids = add_profiles(
        services.db,
        ws.id,
        [{"traits": {"first_name": f"P{i}", "newsletter": True}} for i in range(3)],
        services.clock.now(),
    )
    with services.db.write() as tx:
        identities = [(("phone", f"+4670000000{i}"), pid) for i, pid in enumerate(ids)]
        identities += [(("device_token", f"token-{i}"), pid) for i, pid in enumerate(ids)]
        tx.profiles.assign(ws.id, identities, services.clock.now())
    apply(client, ws, {"kind": "campaign", "name": "c", "audience": "subscribers", "template": "t"})
    post(client, ws, "/v1/campaigns/c/activate")
    run_campaigns(app)
    (run,) = get(client, ws, "/v1/campaigns/c/runs")["items"]
    assert run["counts"]["recipients"] == 3
    assert run["counts"]["sent"] == 3, run["counts"]
    assert run["status"] == "completed"


def test_the_schedule_survives_a_restart(sqlite_db: SqlDatabase) -> None:
    clock = FakeClock(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    first = create_app(settings_for_tests(), db=sqlite_db, clock=clock)
    ws = make_workspace(first)
    with TestClient(first) as client:
        apply(client, ws, SUBSCRIBERS, {"kind": "template", "name": "t", **TEMPLATES["sms"]})
        add_profiles(sqlite_db, ws.id, [{"traits": {"newsletter": True}}], clock.now())
        apply(
            client,
            ws,
            {
                "kind": "campaign",
                "name": "c",
                "audience": "subscribers",
                "template": "t",
                "schedule": {"every": "daily", "time": "09:00", "timezone": "Europe/Stockholm"},
            },
        )
        post(client, ws, "/v1/campaigns/c/activate")
    # The process is gone; a new one on the same database, a week later.
    clock.set(datetime(2026, 12, 10, 0, 0, tzinfo=UTC))
    second = create_app(settings_for_tests(), db=sqlite_db, clock=clock)
    with TestClient(second) as client:
        run_campaigns(second)  # the due occurrence fires late, once; no replay of the week
        runs = get(client, ws, "/v1/campaigns/c/runs")["items"]
        assert [r["occurrence"]["wall"] for r in runs] == ["2026-12-04T09:00:00"]
        assert get(client, ws, "/v1/campaigns/c")["next_run_at"] == "2026-12-10T08:00:00+00:00"
        clock.set(datetime(2026, 12, 10, 8, 0, tzinfo=UTC))
        run_campaigns(second)
        assert len(get(client, ws, "/v1/campaigns/c/runs")["items"]) == 2
