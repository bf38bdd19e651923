"""Which data source a workspace's schema names, opened once per workspace."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from clarion.audiences.copy import DuckDbCopy
from clarion.clock import Clock
from clarion.orchestrated.errors import DataSourceError
from clarion.orchestrated.schema import SourceSpec
from clarion.orchestrated.sources.base import DataSource, ProfileProvider
from clarion.orchestrated.sources.copy import DirectTables, StoreCopy
from clarion.orchestrated.sources.maintained import MaintainedCopy
from clarion.storage.base import Database


def data_dir_for(database_url: str) -> Path:
    """Where embedded DuckDB files go: beside a SQLite database, else `./clarion-data`."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        path = Path(database_url.removeprefix("sqlite:///"))
        return path.with_name(path.name + ".data")
    return Path("clarion-data")


class SourceRegistry:
    """Opens (and keeps) each workspace's source; the profile provider that goes with it."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        database_url: str,
        data_dir: Path,
        *,
        profile_copy: DuckDbCopy | None = None,
    ) -> None:
        self.db, self.clock = db, clock
        self.profile_copy = profile_copy
        """The DuckDB copy kept from the log (`CLARION_DUCKDB_COPY`), when there is one."""
        self.database_url = database_url
        self.data_dir = data_dir
        self._open: dict[tuple[str, str], DataSource] = {}
        self._lock = threading.Lock()

    def _make(self, workspace_id: str, spec: SourceSpec) -> DataSource:
        if spec.engine == "duckdb":
            from clarion.orchestrated.sources.duckdb import DuckDbSource

            return DuckDbSource(self.data_dir / "orchestrated" / f"{workspace_id}.duckdb")
        if spec.engine == "postgresql":
            from clarion.orchestrated.sources.postgres import PostgresSource

            url = os.environ.get(spec.url_env, "") if spec.url_env else self.database_url
            if not url.startswith("postgresql"):
                raise DataSourceError(
                    "the postgresql source needs a PostgreSQL URL"
                    + (f" in ${spec.url_env}" if spec.url_env else " (Clarion's database is not)")
                )
            return PostgresSource(url, workspace_id)
        from clarion.orchestrated.sources.spark import SparkSource

        return SparkSource(spec.master)

    def source(self, workspace_id: str, spec: SourceSpec) -> DataSource:
        """The workspace's source for `spec` (opened on first use)."""
        key = (workspace_id, spec.model_dump_json())
        with self._lock:
            if key not in self._open:
                self._open[key] = self._make(workspace_id, spec)
            return self._open[key]

    def provider(self, spec: SourceSpec) -> ProfileProvider:
        """How the source sees profiles: in place in Clarion's own PostgreSQL, from the
        copy kept from the log in DuckDB when it is kept, else copied from the store."""
        if spec.engine == "postgresql" and spec.url_env is None:
            return DirectTables()
        store = StoreCopy(self.db, self.clock)
        if spec.engine == "duckdb" and self.profile_copy is not None:
            return MaintainedCopy(self.profile_copy, store)
        return store

    def close(self) -> None:
        """Close every open source."""
        with self._lock:
            for source in self._open.values():
                source.close()
            self._open.clear()
