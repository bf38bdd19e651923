"""Where profiles come from on DuckDB: the copy kept from the log when it is kept (its
freshness shown with every count), else a copy from the store at each computation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.cli.canvases import freshness_line
from clarion.model.profiles import ProfileRecord
from clarion.orchestrated.sources.maintained import HOW
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.audiences.live import send, settle
from tests.conftest import WorkspaceKeys, make_workspace, settings_for_tests
from tests.orchestrated.hotel_data import HERE

SWEDES = """
kind: canvas
name: swedes
activities:
  - id: swedes
    type: build_audience
    filter: {trait: {path: country, op: eq, value: SE}}
    next: send
  - {id: send, type: email, template: winter-nordic, next: done}
  - {id: done, type: end}
"""


def _apply(client: TestClient, ws: WorkspaceKeys) -> None:
    body = "\n---\n".join(
        [(HERE / "templates.yaml").read_text(), (HERE / "issue_documents.yaml").read_text(), SWEDES]
    )
    applied = client.post(
        "/v1/apply", content=body, headers={**ws.auth, "content-type": "application/yaml"}
    )
    assert applied.status_code == 200, applied.text


def _identify(client: TestClient, ws: WorkspaceKeys, users: list[tuple[str, str]]) -> None:
    for user, country in users:
        traits = {"country": country, "email": f"{user}@example.com", "first_name": user}
        send(client, ws, "/v1/identify", {"userId": user, "traits": traits})


def _outside_the_log(app: FastAPI, ws: WorkspaceKeys, clock: FakeClock) -> None:
    """A Swede written to the store directly: only a copy from the store sees her."""
    now = clock.now()
    with app.state.services.db.write() as tx:
        tx.profiles.insert([ProfileRecord("direct", ws.id, {"country": "SE"}, {}, now, now)])
        tx.profiles.assign(ws.id, [(("email", "direct@example.com"), "direct")], now)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _calculate(client: TestClient, ws: WorkspaceKeys) -> dict[str, Any]:
    answer = client.post("/v1/canvases/swedes/calculate", headers=ws.auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


class TestWithTheCopyKept:
    @pytest.fixture
    def copy_path(self, tmp_path: Path) -> Path:
        return tmp_path / "copy.duckdb"

    @pytest.fixture
    def app(self, sqlite_db: SqlDatabase, clock: FakeClock, copy_path: Path) -> FastAPI:
        return create_app(settings_for_tests(duckdb_copy=copy_path), db=sqlite_db, clock=clock)

    @pytest.fixture
    def client(self, app: FastAPI) -> Iterator[TestClient]:
        with TestClient(app) as test_client:
            yield test_client

    @pytest.fixture
    def ws(self, app: FastAPI) -> WorkspaceKeys:
        return make_workspace(app, "Hotels")

    def test_counts_read_the_copy_and_show_its_freshness(
        self, app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
    ) -> None:
        _apply(client, ws)
        _identify(client, ws, [("anna", "SE"), ("bo", "SE"), ("dag", "NO")])
        settle(app, client)
        synced = app.state.services.extras["audience_copy"].freshness()
        _outside_the_log(app, ws, clock)

        first = _calculate(client, ws)
        assert first["counts"] == {"swedes": 2, "send": 2}  # not the Swede outside the log
        assert first["eligible"] == {"send": 2}
        fresh = first["freshness"]
        assert fresh["profiles"] == HOW and fresh["live"] is False
        assert _instant(fresh["profiles_as_of"]) == synced.synced_at
        assert _instant(fresh["last_event_at"]) == synced.last_event_received_at
        assert "as of " in freshness_line(first) and "newest event received" in freshness_line(
            first
        )

        clock.advance(seconds=30)
        _identify(client, ws, [("cecilia", "SE")])
        unsettled = _calculate(client, ws)  # the copy has not applied her yet
        assert unsettled["counts"]["swedes"] == 2 and unsettled["freshness"] == fresh

        settle(app, client)
        later = _calculate(client, ws)
        assert later["counts"]["swedes"] == 3
        assert _instant(later["freshness"]["profiles_as_of"]) > synced.synced_at
        pid = client.get("/v1/profiles", params={"identity": "user_id:bo"}, headers=ws.auth).json()[
            "id"
        ]
        changed = client.put(
            f"/v1/profiles/{pid}/subscriptions",
            headers=ws.auth,
            json={"subscriptions": [{"channel": "email", "status": "unsubscribed"}]},
        )
        assert changed.status_code == 200, changed.text
        settle(app, client)
        assert _calculate(client, ws)["eligible"] == {"send": 2}  # consent, from the copy

        run = client.post("/v1/canvases/swedes/run?wait=true", headers=ws.auth).json()
        assert run["status"] == "completed" and run["sending"]["send"]["total"] == 2
        assert run["freshness"]["profiles"] == HOW

    def test_while_another_process_writes_the_copy_the_last_rows_taken_serve(
        self,
        app: FastAPI,
        client: TestClient,
        ws: WorkspaceKeys,
        clock: FakeClock,
        copy_path: Path,
    ) -> None:
        _apply(client, ws)
        _identify(client, ws, [("anna", "SE"), ("bo", "SE")])
        settle(app, client)
        first = _calculate(client, ws)
        clock.advance(seconds=30)
        _identify(client, ws, [("cecilia", "SE")])
        settle(app, client)
        with _writer(copy_path):
            held = _calculate(client, ws)
        assert held["counts"]["swedes"] == 2 and held["freshness"] == first["freshness"]
        assert _calculate(client, ws)["counts"]["swedes"] == 3


@contextmanager
def _writer(path: Path) -> Iterator[None]:
    """Another process holding the copy's file open for writing (as `clarion worker` may)."""
    code = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
    code += " sys.stdin.read()"
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        yield
    finally:
        child.communicate("")


def test_without_the_copy_profiles_are_copied_from_the_store(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    _apply(client, ws)
    _identify(client, ws, [("anna", "SE"), ("bo", "SE"), ("dag", "NO")])
    settle(app, client)
    _outside_the_log(app, ws, clock)
    found = _calculate(client, ws)
    assert found["counts"]["swedes"] == 3  # the store, including the Swede outside the log
    assert found["freshness"]["profiles"].startswith("copied from Clarion's store")
    assert _instant(found["freshness"]["profiles_as_of"]) == clock.now()
    assert freshness_line(found).endswith(f"(as of {found['freshness']['profiles_as_of']})")


def test_the_freshness_line_says_live_or_never_synced() -> None:
    live = {"freshness": {"profiles": "read directly", "profiles_as_of": None, "live": True}}
    assert freshness_line(live) == "profiles: read directly (live)"
    never = {"freshness": {"profiles": HOW, "profiles_as_of": None, "live": False}}
    assert freshness_line(never).endswith("(never synced)")
