"""Running the chain's canvases on one engine: what every engine must agree on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import make_workspace, settings_for_tests
from tests.orchestrated.hotel_data import HotelChain, documents, generate, store_profiles

CANVASES = ("seasonal-offers", "per-booking")


def load_chain(client: TestClient, auth: dict[str, str], chain: HotelChain) -> None:
    """Every entity's rows, as JSON."""
    for entity in ("hotels", "bookings", "products", "purchases"):
        loaded = client.post(f"/v1/data/{entity}", json=getattr(chain, entity), headers=auth)
        assert loaded.status_code == 200, loaded.text


def outcome(db: SqlDatabase, clock: FakeClock, source: dict[str, Any]) -> dict[str, Any]:
    """Calculate both canvases, run them, and gather counts and recipients."""
    app: FastAPI = create_app(settings_for_tests(), db=db, clock=clock)
    ws = make_workspace(app)
    docs = documents("chain_templates.yaml") + documents("chain_documents.yaml")
    docs[len(documents("chain_templates.yaml"))]["source"] = source
    found: dict[str, Any] = {}
    try:
        _run_all(app, ws, db, clock, docs, found)
    finally:
        app.state.services.extras["canvases"].sources.close()
    return found


def _run_all(
    app: FastAPI, ws: Any, db: SqlDatabase, clock: FakeClock, docs: list[Any], found: dict[str, Any]
) -> None:
    with TestClient(app) as client:
        applied = client.post("/v1/apply", json=docs, headers=ws.auth)
        assert applied.status_code == 200, applied.text
        chain = generate(clock.now().date())
        store_profiles(db, ws.id, chain, clock.now())
        load_chain(client, ws.auth, chain)
        for name in CANVASES:
            calc = client.post(f"/v1/canvases/{name}/calculate", headers=ws.auth)
            assert calc.status_code == 200, calc.text
            run = client.post(f"/v1/canvases/{name}/run?wait=true", headers=ws.auth).json()
            assert "status" in run, run
            assert run["status"] == "completed", run
            found[name] = {
                "counts": calc.json()["counts"],
                "eligible": calc.json()["eligible"],
                "queued": {k: v["queued"] for k, v in run["sending"].items()},
                "recipients": recipients(app, ws.id, run["id"]),
            }


def recipients(app: FastAPI, workspace_id: str, run_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Per channel activity, the (row key, profile) of every queued message."""
    service = app.state.services.extras["canvases"]
    return service.recipients(workspace_id, run_id)


def sqlite_db(template: Path, tmp_path: Path) -> SqlDatabase:
    """A fresh migrated SQLite store."""
    import shutil

    path = tmp_path / "clarion.db"
    shutil.copy(template, path)
    return SqlDatabase.from_url(f"sqlite:///{path}")
