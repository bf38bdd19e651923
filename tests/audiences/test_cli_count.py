"""`clarion audiences count FILE.yaml` against the configured database."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clarion.cli.main import app as cli
from clarion.testing import FakeClock
from tests.audiences.live import send, settle
from tests.audiences.test_membership import FREQUENT
from tests.conftest import WorkspaceKeys

runner = CliRunner()


def test_count_prints_the_exact_count(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock, tmp_path: Path
) -> None:
    for user, country in (("a", "SE"), ("b", "SE"), ("c", "NO")):
        send(client, ws, "/v1/identify", {"userId": user, "traits": {"country": country}})
        for total in (150, 200):
            order = {"userId": user, "event": "Order Completed", "properties": {"total": total}}
            send(client, ws, "/v1/track", order)
    settle(app, client)
    url = app.state.services.db.engine.url.render_as_string(hide_password=False)
    file = tmp_path / "frequent.yaml"
    file.write_text(FREQUENT)
    at = clock.now().isoformat()
    result = runner.invoke(cli, ["audiences", "count", str(file), "--db", url, "--at", at])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2"
    later = clock.now().replace(year=clock.now().year + 1).isoformat()  # the window has passed
    result = runner.invoke(cli, ["audiences", "count", str(file), "--db", url, "--at", later])
    assert result.stdout.strip() == "0"


def test_count_reports_bad_definitions_and_workspaces(
    app: FastAPI, ws: WorkspaceKeys, tmp_path: Path
) -> None:
    url = app.state.services.db.engine.url.render_as_string(hide_password=False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("definition: {any: []}\n")
    result = runner.invoke(cli, ["audiences", "count", str(bad), "--db", url])
    assert result.exit_code == 1 and "any" in result.output
    good = tmp_path / "good.yaml"
    good.write_text("trait: {path: plan, op: exists}\n")
    result = runner.invoke(cli, ["audiences", "count", str(good), "--db", url, "-w", "nope"])
    assert result.exit_code == 1 and "no workspace 'nope'" in result.output
    result = runner.invoke(cli, ["audiences", "count", str(good), "--db", url, "-w", ws.id])
    assert result.exit_code == 0 and result.stdout.strip() == "0"
