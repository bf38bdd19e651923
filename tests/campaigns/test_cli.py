"""The CLI: `clarion apply -f` with the issue's campaign YAML, and `clarion campaigns run`
following a run with a progress bar, against a running server with its workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clarion.api.app import create_app
from clarion.cli.main import app as cli
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.campaigns.helpers import CHURNED, SUBSCRIBERS, add_profiles, template
from tests.conftest import LiveServer, make_workspace, settings_for_tests

runner = CliRunner()


@pytest.mark.slow
def test_apply_the_issue_yaml_then_run_with_a_progress_bar(
    sqlite_db: SqlDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for_tests()
    settings.workers = True
    clock = FakeClock()
    app = create_app(settings, db=sqlite_db, clock=clock)
    app.state.runtime.campaign_loop.worker.check_us = 0  # the fake clock stands still
    ws = make_workspace(app)
    people = [{"traits": {"first_name": f"P{i}", "newsletter": True}} for i in range(3000)]
    add_profiles(sqlite_db, ws.id, people, clock.now())
    monkeypatch.setenv("CLARION_API_KEY", ws.secret_key)
    with LiveServer(app) as server:
        basics = tmp_path / "basics.yaml"
        basics.write_text(
            "\n---\n".join(
                str(d).replace("'", '"').replace("True", "true")
                for d in (
                    SUBSCRIBERS,
                    CHURNED,
                    *(
                        template(n)
                        for n in ("newsletter-december", "weekly-digest", "order-confirmation")
                    ),
                )
            )
        )
        first = runner.invoke(cli, ["apply", "-f", str(basics), "--url", server.url])
        assert first.exit_code == 0, first.output
        issue = Path(__file__).parent / "issue_campaigns.yaml"
        applied = runner.invoke(cli, ["apply", "-f", str(issue), "--url", server.url])
        assert applied.exit_code == 0, applied.output
        assert applied.output.count("created") == 3
        listed = runner.invoke(cli, ["campaigns", "list", "--url", server.url])
        assert "monday-newsletter" in listed.output and "draft" in listed.output
        ran = runner.invoke(
            cli, ["campaigns", "run", "monday-newsletter", "--url", server.url, "--poll", "0.05"]
        )
        assert ran.exit_code == 0, ran.output
        assert "queued" in ran.output and "3000/3000" in ran.output  # the progress bar
        assert "completed" in ran.output
        report = runner.invoke(
            cli, ["campaigns", "report", "monday-newsletter", "--url", server.url]
        )
        assert report.exit_code == 0 and "3000" in report.output
        missing = runner.invoke(cli, ["campaigns", "run", "nope", "--url", server.url])
        assert missing.exit_code == 1 and "no campaign 'nope'" in missing.output
