"""Campaign tests: the app on SQLite (and PostgreSQL where storage rules matter)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from clarion.api.app import create_app
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import settings_for_tests


@pytest.fixture
def clock() -> FakeClock:
    """Thursday 3 December 2026, 12:00 UTC: the Monday newsletter is four days away."""
    return FakeClock(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))


@pytest.fixture
def both_app(db: SqlDatabase, clock: FakeClock) -> FastAPI:
    """The app on SQLite and on PostgreSQL."""
    return create_app(settings_for_tests(), db=db, clock=clock)
