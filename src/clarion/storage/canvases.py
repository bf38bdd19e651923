"""The storage interface of orchestrated campaigns: calculations and runs of canvases.

`clarion.storage.base.Tx.canvases` is a `CanvasRepo`; the SQL backend is
`clarion.storage.sql.canvases`. Rows hold no profile ids (recipients live in the
data source's work tables), so no erasure hook is needed.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(slots=True)
class CanvasRun:
    """A calculation (counts only) or a run (counts, then sends) of one canvas version."""

    id: str
    workspace_id: str
    canvas_id: str
    canvas_name: str
    version: int
    mode: str
    """`calculate` or `run`."""
    status: str
    """pending, computing, sending, completed, failed."""
    created_at: datetime
    updated_at: datetime
    state: dict[str, Any] = field(default_factory=dict)
    """Counts, eligible counts, previews, work tables, send progress, freshness."""
    next_at_us: int = 0
    error: str | None = None
    finished_at: datetime | None = None
    cleaned_at: datetime | None = None


class CanvasRepo(Protocol):
    """Canvas runs, and the rows of Clarion's tables that a data source copies."""

    def save_run(self, run: CanvasRun, *, lease_us: int | None = None) -> None:
        """Insert or update a run (a lease keeps other workers off it)."""
        ...

    def run(self, workspace_id: str, run_id: str, *, lock: bool = False) -> CanvasRun | None: ...

    def runs(self, workspace_id: str, canvas_id: str, limit: int = 50) -> builtins.list[CanvasRun]:
        """The canvas's runs and calculations, newest first."""
        ...

    def claim_runs(self, now_us: int, limit: int, lease_us: int) -> builtins.list[CanvasRun]:
        """Unfinished runs due now whose lease has expired, leased to the caller."""
        ...

    def retained(self, before: datetime) -> builtins.list[CanvasRun]:
        """Finished runs created before `before` whose work tables are not cleaned yet."""
        ...

    def table_rows(
        self, workspace_id: str, table: str, columns: Sequence[str]
    ) -> builtins.list[tuple[Any, ...]]:
        """The workspace's rows of one of Clarion's tables (for a data source's copy)."""
        ...
