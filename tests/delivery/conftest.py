"""Delivery tests run against both backends: the outbox, caps and leases are storage rules."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from clarion.api.app import create_app
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import NoteKind, settings_for_tests


@pytest.fixture
def app(db: SqlDatabase, clock: FakeClock) -> FastAPI:
    """The test app on SQLite and on PostgreSQL."""
    return create_app(settings_for_tests(), db=db, clock=clock, extra_kinds=[NoteKind()])
