"""Shared fixtures: a fake clock, databases on every backend, an app and its client.

PostgreSQL tests use the server at CLARION_TEST_PG (default the local one).
Where it does not answer they skip locally and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from clarion.api.app import create_app
from clarion.config import Settings
from clarion.documents import DocumentKind, ValidationContext
from clarion.model.documents import Problem, Ref
from clarion.storage.schema import metadata
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.migrate import upgrade
from clarion.testing import FakeClock
from clarion.workspaces import create_workspace

PG_ADMIN_URL = os.environ.get("CLARION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
ADMIN_KEY = "test-admin-bootstrap-key"


def pg_admin() -> psycopg.Connection:
    """An autocommit connection to the test server's maintenance database, or skip/fail."""
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and does not answer: {exc}")
        pytest.skip(f"PostgreSQL does not answer at {PG_ADMIN_URL}; CI runs these tests")


def new_pg_database() -> str:
    """Create an empty database on the test server; returns its SQLAlchemy URL."""
    name = f"clarion_test_{uuid.uuid4().hex[:12]}"
    with pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database shared by the session (tables emptied per test)."""
    url = new_pg_database()
    database = SqlDatabase.from_url(url)
    upgrade(database.engine)
    database.close()
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "clarion.db"
    database = SqlDatabase.from_url(f"sqlite:///{path}")
    upgrade(database.engine)
    database.close()
    return path


def empty_tables(database: SqlDatabase) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))


def open_backend(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> SqlDatabase:
    """A migrated, empty database on `backend`."""
    if backend == "sqlite":
        path = tmp_path / "clarion.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return SqlDatabase.from_url(f"sqlite:///{path}")
    database = SqlDatabase.from_url(request.getfixturevalue("pg_url"))
    empty_tables(database)
    return database


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDatabase]:
    """A migrated, empty database; tests using it run on SQLite and on PostgreSQL."""
    database = open_backend(request, request.param, tmp_path)
    yield database
    database.close()


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDatabase]:
    """A migrated, empty SQLite database (for tests that need only one backend)."""
    database = open_backend(request, "sqlite", tmp_path)
    yield database
    database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class WorkspaceKeys:
    """A test workspace and its two first keys."""

    id: str
    write_key: str
    secret_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}


def make_workspace(app: FastAPI, name: str = "Acme") -> WorkspaceKeys:
    services = app.state.services
    created = create_workspace(services.db, services.clock, name)
    return WorkspaceKeys(created.workspace.id, created.write_key, created.secret_key)


def settings_for_tests(**overrides: object) -> Settings:
    settings = {"workers": False, "handoff": False, "admin_key": ADMIN_KEY, **overrides}
    return Settings(**settings)  # type: ignore[arg-type]


class NoteKind(DocumentKind):
    """A test kind: a `text`, and optional `links` to other notes by name."""

    kind = "note"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        problems = []
        if not isinstance(spec.get("text"), str):
            problems.append(Problem("text", "a note needs a text"))
        links = spec.get("links", [])
        if not isinstance(links, list) or not all(isinstance(x, str) for x in links):
            problems.append(Problem("links", "links is a list of note names"))
        return problems

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        links = spec.get("links", [])
        return (
            [Ref("note", x) for x in links if isinstance(x, str)] if isinstance(links, list) else []
        )


@pytest.fixture
def app(sqlite_db: SqlDatabase, clock: FakeClock) -> FastAPI:
    """An app on SQLite with the fake clock, no background workers, and the `note` test kind."""
    return create_app(settings_for_tests(), db=sqlite_db, clock=clock, extra_kinds=[NoteKind()])


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def ws(app: FastAPI) -> WorkspaceKeys:
    return make_workspace(app, "Acme")


@pytest.fixture
def other_ws(app: FastAPI) -> WorkspaceKeys:
    return make_workspace(app, "Globex")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn server for an app, on a free loopback port, in a thread."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        import threading

        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:  # readiness, not a timing assumption
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The test app served over real HTTP."""
    with LiveServer(app) as server:
        yield server


def drain_consumers(client: TestClient) -> int:
    """Run the app's log consumers until they are idle (tests run without the loop thread)."""
    from clarion.api.runtime import consumers
    from clarion.processing.consumers import drain

    services = client.app.state.services  # type: ignore[attr-defined]
    copy = services.extras.get("audience_copy")
    return drain(services.db, services.clock, consumers(services.clock, copy))


WorkerStarter = Callable[[dict[str, str]], subprocess.Popen[bytes]]


@pytest.fixture
def start_worker() -> Iterator[WorkerStarter]:
    """Start `clarion worker` processes with an environment; any still running when the
    test ends (a failed wait, a timeout) are killed, so none outlives its test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "clarion.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
