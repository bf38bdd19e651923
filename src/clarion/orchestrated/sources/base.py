"""Data sources: where entity rows live and where work tables are made.

A `DataSource` runs the SQL that `clarion.orchestrated.sql` generates for its
engine. It also makes Clarion's profiles, identities and consent readable
under their own table names (`ProfileProvider`): PostgreSQL reads Clarion's own
tables when it is the same database, DuckDB and Spark get a copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlglot import exp

from clarion.orchestrated.catalog import Entity
from clarion.orchestrated.sql.dialects import CanvasDialect


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the profile data a source reads is: when it was copied, and how."""

    copied_at: datetime | None
    """None when the source reads Clarion's tables directly, or a copy never synced."""
    how: str
    last_event_at: datetime | None = None
    """When read from the copy kept from the log: the newest event it had received."""
    live: bool = False
    """Clarion's own tables, read in place (always current)."""

    def as_json(self) -> dict[str, Any]:
        found = {"profiles_as_of": self.copied_at, "profiles": self.how, "live": self.live}
        return found | ({"last_event_at": self.last_event_at} if self.last_event_at else {})


class ProfileProvider(Protocol):
    """Makes profiles, identities, consent and suppressions readable by a source."""

    def provide(self, source: DataSource, workspace_id: str) -> Freshness:
        """Ensure the tables are there and current enough; say how current."""
        ...


class DataSource(Protocol):
    """One workspace's data on one engine."""

    engine: CanvasDialect

    def table_of(self, name: str, alias: str) -> exp.Expr:
        """A FROM item for an entity or work table."""
        ...

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        """Run a statement."""
        ...

    def fetch(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query: column names and rows."""
        ...

    def create_table(self, name: str, sql: str, params: dict[str, Any]) -> None:
        """`CREATE TABLE name AS sql` (replacing any table of that name)."""
        ...

    def drop_table(self, name: str) -> None:
        """Drop a table if it exists."""
        ...

    def has_table(self, name: str) -> bool:
        """True when the table exists."""
        ...

    def load(self, entity: Entity, rows: Sequence[dict[str, Any]], replace: bool) -> int:
        """Store rows of an entity (replace the table, or add and update by primary key)."""
        ...

    def put_rows(
        self, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Replace table `name` (columns as (name, SQL type)) with `rows` (the profile copy)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
