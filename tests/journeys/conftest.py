"""Journey scenarios run on SQLite and on PostgreSQL: the engine's writes take a
different statement on each (see `clarion.storage.sql.bulk`)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from clarion.api.app import create_app
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import settings_for_tests


@pytest.fixture
def app(db: SqlDatabase, clock: FakeClock) -> FastAPI:
    """An app on each backend with the fake clock and no background workers."""
    return create_app(settings_for_tests(), db=db, clock=clock)
