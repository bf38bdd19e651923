"""Engines for the audience tests: SQLite and DuckDB always, PostgreSQL where it answers
(required under CI=true, as everywhere)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarion.storage.sql import SqlDatabase
from tests.audiences.data import Engines, new_duckdb
from tests.conftest import empty_tables


def _postgres(request: pytest.FixtureRequest) -> SqlDatabase | None:
    try:
        url = request.getfixturevalue("pg_url")
    except pytest.skip.Exception:
        return None  # skipped locally; under CI the fixture fails instead
    database = SqlDatabase.from_url(url)
    empty_tables(database)  # the session's database holds what earlier tests left
    return database


@pytest.fixture(scope="module")
def engines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engines]:
    """SQLite (a migrated copy), PostgreSQL (when available) and DuckDB."""
    path = tmp_path_factory.mktemp("audiences") / "clarion.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    databases = {"sqlite": SqlDatabase.from_url(f"sqlite:///{Path(path)}")}
    postgres = _postgres(request)
    if postgres is not None:
        databases["postgresql"] = postgres
    duck = new_duckdb()
    yield Engines({name: db.engine for name, db in databases.items()}, duck)
    duck.close()
    for database in databases.values():
        database.close()
