"""The CLI against a running server with its workers: `clarion apply -f` with the issue's
YAML, `clarion data load` (CSV and JSON), `clarion canvases calculate` (a table of counts)
and `clarion canvases run` (a progress bar)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clarion.api.app import create_app
from clarion.cli.main import app as cli
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import LiveServer, make_workspace, settings_for_tests
from tests.orchestrated.hotel_data import HERE, generate, store_profiles
from tests.orchestrated.test_issue_canvases import expected_pre_arrival

runner = CliRunner()


@pytest.mark.slow
def test_apply_load_calculate_and_run_from_the_command_line(
    sqlite_db: SqlDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for_tests()
    settings.workers = True
    clock = FakeClock()
    app = create_app(settings, db=sqlite_db, clock=clock)
    ws = make_workspace(app)
    chain = generate(clock.now().date())
    ids = store_profiles(sqlite_db, ws.id, chain, clock.now())
    _flows, eligible = expected_pre_arrival(chain, clock.now(), ids)
    hotels = tmp_path / "hotels.csv"
    hotels.write_text(
        "hotel_id,name,region,city\n"
        + "".join(f"{h['hotel_id']},{h['name']},{h['region']},{h['city']}\n" for h in chain.hotels)
    )
    bookings = tmp_path / "bookings.json"
    bookings.write_text(json.dumps(chain.bookings))
    monkeypatch.setenv("CLARION_API_KEY", ws.secret_key)
    with LiveServer(app) as server:
        url = ["--url", server.url]
        for name in ("templates.yaml", "issue_documents.yaml"):
            applied = runner.invoke(cli, ["apply", "-f", str(HERE / name), *url])
            assert applied.exit_code == 0, applied.output
        loaded = runner.invoke(cli, ["data", "load", "hotels", str(hotels), *url])
        assert loaded.exit_code == 0 and f"hotels: {len(chain.hotels)} rows" in loaded.output
        loaded = runner.invoke(cli, ["data", "load", "bookings", str(bookings), *url])
        assert loaded.exit_code == 0, loaded.output
        counted = runner.invoke(cli, ["canvases", "calculate", "pre-arrival", *url])
        assert counted.exit_code == 0, counted.output
        assert "upcoming" in counted.output and str(len(eligible)) in counted.output
        ran = runner.invoke(cli, ["canvases", "run", "pre-arrival", "--poll", "0.05", *url])
        assert ran.exit_code == 0, ran.output
        assert f"{len(eligible)}/{len(eligible)}" in ran.output  # the progress bar
        assert "completed" in ran.output
        missing = runner.invoke(cli, ["canvases", "calculate", "nope", *url])
        assert missing.exit_code == 1 and "no canvas 'nope'" in missing.output
