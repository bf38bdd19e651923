"""The `clarion` command: version, workspaces, keys, apply, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import clarion
from clarion.cli.main import app as cli
from tests.conftest import LiveServer, WorkspaceKeys

runner = CliRunner()


def run_clarion(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed entry point, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "clarion.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_version_prints_the_package_version() -> None:
    result = run_clarion("version")
    assert result.returncode == 0
    assert result.stdout.strip() == clarion.__version__


def test_workspaces_create_json_prints_exactly_one_object(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/c.db"
    result = run_clarion("workspaces", "create", "Shop", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert set(body) == {"id", "name", "write_key", "secret_key"}
    assert body["name"] == "Shop"
    listed = runner.invoke(cli, ["workspaces", "list", "--db", db, "--json"])
    assert json.loads(listed.output) == [{"id": body["id"], "name": "Shop"}]


def test_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/env.db"
    result = run_clarion("workspaces", "create", "Env", "--json", env={"CLARION_DATABASE_URL": db})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/k.db"
    ws = json.loads(runner.invoke(cli, ["workspaces", "create", "K", "--db", db, "--json"]).output)
    made = runner.invoke(
        cli, ["keys", "create", "deploy", "-w", ws["id"], "--role", "editor", "--db", db, "--json"]
    )
    assert made.exit_code == 0, made.output
    key = json.loads(made.output)
    assert key["token"].startswith(key["prefix"])
    listed = json.loads(
        runner.invoke(cli, ["keys", "list", "-w", ws["id"], "--db", db, "--json"]).output
    )
    assert {
        "id": key["id"],
        "name": "deploy",
        "kind": "secret",
        "role": "editor",
        "prefix": key["prefix"],
        "revoked": False,
    } in listed
    revoked = runner.invoke(cli, ["keys", "revoke", key["id"], "-w", ws["id"], "--db", db])
    assert revoked.exit_code == 0
    again = runner.invoke(cli, ["keys", "revoke", key["id"], "-w", ws["id"], "--db", db])
    assert again.exit_code == 1


def test_apply_sends_yaml_and_reports_changes(
    live_server: LiveServer, ws: WorkspaceKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "notes.yaml"
    docs.write_text(
        "kind: note\nname: a\ntext: hi\n---\nkind: note\nname: b\ntext: yo\nlinks: [a]\n"
    )
    monkeypatch.setenv("CLARION_API_KEY", ws.secret_key)
    first = runner.invoke(cli, ["apply", "-f", str(docs), "--url", live_server.url])
    assert first.exit_code == 0, first.output
    assert first.output.count("created") == 2
    second = runner.invoke(cli, ["apply", "-f", str(docs), "--url", live_server.url])
    assert second.output.count("unchanged") == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "kind: note\nname: c\ntext: 1\n---\nkind: note\nname: d\nlinks: [zz]\ntext: x\n"
    )
    failed = runner.invoke(cli, ["apply", "-f", str(broken), "--url", live_server.url])
    assert failed.exit_code == 1
    assert "document 0 (note/c) text" in failed.output
    assert "document 1 (note/d)" in failed.output and "note/zz" in failed.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("access_log", [[], ["--no-access-log"]])
def test_serve_answers_health_on_a_fresh_database(tmp_path: Path, access_log: list[str]) -> None:
    port = _free_port()
    db = tmp_path / "served.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clarion.cli",
            "serve",
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
            *access_log,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for readiness
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert db.exists()  # migrations ran on start
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    # The access log names each request, unless it is switched off.
    assert ('"GET /health HTTP/1.1" 200' in output) == (not access_log)
