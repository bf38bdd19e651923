"""The same canvases give the same counts and recipients on DuckDB, PostgreSQL and Spark SQL.

DuckDB and Spark read a copy of the profiles made from a SQLite store;
PostgreSQL joins Clarion's own tables in the same database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clarion.testing import FakeClock
from tests.conftest import empty_tables
from tests.orchestrated.engines import outcome, sqlite_db

_RESULTS: dict[str, Any] = {}


def _duckdb(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if "duckdb" not in _RESULTS:
        tmp_path.mkdir(exist_ok=True)
        db = sqlite_db(request.getfixturevalue("sqlite_template"), tmp_path)
        _RESULTS["duckdb"] = outcome(db, FakeClock(), {"engine": "duckdb"})
        db.close()
    return _RESULTS["duckdb"]


def test_duckdb_counts_are_consistent(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    found = _duckdb(request, tmp_path)
    offers = found["seasonal-offers"]
    counts = offers["counts"]
    assert counts["buyers.recent"] == counts["by-region"] > 0
    assert (
        counts["by-region.nordic"] + counts["by-region.sample"] + counts["by-region.complement"]
        == counts["by-region"]
    )
    assert counts["enrich"] == counts["by-region.nordic"] + counts["by-region.sample"]
    assert counts["segments.vip"] == 5
    assert (
        counts["segments.vip"] + counts["segments.wellness"] + counts["segments.complement"]
        == counts["enrich"]
    )
    assert offers["queued"] == offers["eligible"]
    booking = found["per-booking"]
    assert booking["counts"]["each-booking"] > booking["counts"]["guests"]  # several per guest
    # customers without a profile stay behind when the dimension changes
    assert 0 < booking["counts"]["to-guests"] < booking["counts"]["first"]
    assert booking["queued"] == booking["eligible"]
    assert 0 < booking["eligible"]["guest-note"] < booking["counts"]["guest-note"]
    for name in ("seasonal-offers", "per-booking"):
        for activity, rows in found[name]["recipients"].items():
            assert len(rows) == found[name]["eligible"][activity]


@pytest.mark.postgres
def test_postgresql_agrees_with_duckdb(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from clarion.storage.sql import SqlDatabase

    expected = _duckdb(request, tmp_path / "duck")
    db = SqlDatabase.from_url(request.getfixturevalue("pg_url"))
    empty_tables(db)
    try:
        found = outcome(db, FakeClock(), {"engine": "postgresql"})
    finally:
        db.close()
    assert found == expected


@pytest.mark.slow
def test_spark_agrees_with_duckdb(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    expected = _duckdb(request, tmp_path / "duck")
    (tmp_path / "spark").mkdir()
    db = sqlite_db(request.getfixturevalue("sqlite_template"), tmp_path / "spark")
    found = outcome(db, FakeClock(), {"engine": "spark"})
    db.close()
    assert found == expected
