"""The DuckDB copy kept from the log: counts agree with the store, merges, erasure,
consent and replayed batches are followed, and answers say how fresh the copy is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from clarion.api.app import create_app
from clarion.audiences.copy import COPY_CONSUMER
from clarion.storage.schema import consumer_cursors
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.audiences.live import send, settle
from tests.audiences.test_api import FREQUENT, people
from tests.conftest import WorkspaceKeys, make_workspace, settings_for_tests


@pytest.fixture
def copy_path(tmp_path: Path) -> Path:
    return tmp_path / "copy.duckdb"


@pytest.fixture
def app(sqlite_db: SqlDatabase, clock: FakeClock, copy_path: Path) -> FastAPI:
    return create_app(settings_for_tests(duckdb_copy=copy_path), db=sqlite_db, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def ws(app: FastAPI) -> WorkspaceKeys:
    return make_workspace(app, "Acme")


def preview(client: TestClient, ws: WorkspaceKeys, definition: Any, engine: str) -> Any:
    answer = client.post(
        "/v1/audiences/preview",
        headers=ws.auth,
        params={"engine": engine},
        json={"definition": definition},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def copied(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_counts_on_the_copy_agree_with_the_store_and_say_how_fresh(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    people(client, ws)
    settle(app, client)
    for definition in (
        FREQUENT["definition"],
        {"trait": {"path": "country", "op": "eq", "value": "SE"}},
        {"identity": {"namespace": "email"}},
        {"not_performed": {"event": "Order Completed"}},
    ):
        store = preview(client, ws, definition, "sql")
        copy = preview(client, ws, definition, "duckdb")
        assert copy["count"] == store["count"], definition
        assert copy["sample"] == store["sample"]
    answer = preview(client, ws, FREQUENT["definition"], "duckdb")
    assert answer["count"] == 1 and answer["engine"] == "duckdb"
    assert answer["freshness"]["synced_at"] == clock.now().isoformat()
    assert answer["freshness"]["last_event_received_at"] is not None
    assert preview(client, ws, FREQUENT["definition"], "sql")["freshness"]["current"] is True


def test_the_copy_follows_new_events(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> None:
    people(client, ws)
    settle(app, client)
    assert preview(client, ws, FREQUENT["definition"], "duckdb")["count"] == 1
    for total in (120, 130):
        order = {"userId": "cecilia", "event": "Order Completed", "properties": {"total": total}}
        send(client, ws, "/v1/track", order)
    assert preview(client, ws, FREQUENT["definition"], "duckdb")["count"] == 1  # not yet copied
    settle(app, client)
    assert preview(client, ws, FREQUENT["definition"], "duckdb")["count"] == 2


def test_merges_move_events_to_the_survivor(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, copy_path: Path
) -> None:
    send(client, ws, "/v1/track", {"anonymousId": "a-1", "event": "Product Viewed"})
    settle(app, client)
    send(client, ws, "/v1/identify", {"userId": "known", "traits": {"plan": "pro"}})
    send(client, ws, "/v1/alias", {"userId": "known", "previousId": "a-1"})
    send(client, ws, "/v1/identify", {"userId": "known", "anonymousId": "a-1"})
    settle(app, client)
    viewers = {
        "all": [
            {"performed": {"event": "Product Viewed"}},
            {"trait": {"path": "plan", "op": "eq", "value": "pro"}},
        ]
    }
    assert preview(client, ws, viewers, "sql")["count"] == 1
    assert preview(client, ws, viewers, "duckdb")["count"] == 1
    profiles = {r[0] for r in copied(copy_path, "SELECT id FROM profiles")}
    owners = {r[0] for r in copied(copy_path, "SELECT DISTINCT profile_id FROM events")}
    assert owners <= profiles and len(profiles) == 1


def test_erasure_removes_the_person_from_the_copy(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, copy_path: Path
) -> None:
    people(client, ws)
    settle(app, client)
    pid = client.get("/v1/profiles", params={"identity": "user_id:anna"}, headers=ws.auth).json()[
        "id"
    ]
    assert copied(copy_path, "SELECT count(*) FROM events WHERE profile_id = ?", pid)[0][0] > 0
    assert client.delete(f"/v1/profiles/{pid}", headers=ws.auth).status_code in (200, 202, 204)
    settle(app, client)
    for table, key in (("events", "profile_id"), ("profiles", "id"), ("identities", "profile_id")):
        assert copied(copy_path, f"SELECT count(*) FROM {table} WHERE {key} = ?", pid)[0][0] == 0
    assert preview(client, ws, FREQUENT["definition"], "duckdb")["count"] == 0


def test_consent_changes_reach_the_copy(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    people(client, ws)
    settle(app, client)
    mailable = {"subscribed": {"channel": "email"}}
    before = preview(client, ws, mailable, "duckdb")["count"]
    assert before == preview(client, ws, mailable, "sql")["count"] == 4
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
    assert preview(client, ws, mailable, "duckdb")["count"] == 3


def test_a_batch_that_comes_again_is_not_copied_twice(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, copy_path: Path
) -> None:
    people(client, ws)
    settle(app, client)
    held = copied(copy_path, "SELECT count(*), count(DISTINCT seq) FROM events")[0]
    assert held[0] == held[1] > 0
    db = app.state.services.db
    with db.write() as tx:  # as if the process died after the copy committed, before the cursor
        tx.conn.execute(
            update(consumer_cursors)
            .where(consumer_cursors.c.consumer == COPY_CONSUMER)
            .values(txid=0, seq=0)
        )
    settle(app, client)
    assert copied(copy_path, "SELECT count(*), count(DISTINCT seq) FROM events")[0] == held


def test_engine_errors(
    client: TestClient, ws: WorkspaceKeys, sqlite_db: SqlDatabase, clock: FakeClock
) -> None:
    bogus = client.post(
        "/v1/audiences/preview",
        headers=ws.auth,
        params={"engine": "spark"},
        json={"definition": {"identity": {"namespace": "email"}}},
    )
    assert bogus.status_code == 400 and "engine" in bogus.text
    plain = create_app(settings_for_tests(), db=sqlite_db, clock=clock)
    with TestClient(plain) as other:
        answer = other.post(
            "/v1/audiences/preview",
            headers=ws.auth,
            params={"engine": "duckdb"},
            json={"definition": {"identity": {"namespace": "email"}}},
        )
    assert answer.status_code == 409 and "CLARION_DUCKDB_COPY" in answer.text
