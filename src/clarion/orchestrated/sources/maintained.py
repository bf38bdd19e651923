"""Profiles and consent read from the DuckDB copy the audience issue keeps current.

When Clarion runs with `CLARION_DUCKDB_COPY`, a log consumer keeps profiles,
identities, consent and events current in that DuckDB file
(`clarion.audiences.copy`). A DuckDB canvas source then takes the workspace's
rows from it, engine to engine, instead of re-reading them from the store:
the copy file is attached read-only for the moment of the transfer and
detached again (DuckDB lets one process at a time open a file for writing, and
the copy's consumer may run in another process). Nothing moves while the copy
has applied nothing new since the last transfer. The freshness reported is
the copy's: when its consumer last applied a batch, and the newest event it
had received by then.

The copy does not keep suppressions nor list audiences' members: those small
tables come from the store at each computation. If the copy file is busy, the
rows of the last transfer serve (their freshness is shown); without any, or on
another engine, `StoreCopy` does the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from clarion.audiences.copy import CopyFreshness, DuckDbCopy
from clarion.clock import from_micros
from clarion.orchestrated.errors import DataSourceError
from clarion.orchestrated.sources.base import DataSource, Freshness
from clarion.orchestrated.sources.copy import COPIED, StoreCopy, column_kind
from clarion.orchestrated.sources.duckdb import DuckDbSource, quoted
from clarion.storage import schema

KEPT = (
    schema.profiles,
    schema.identities,
    schema.subscriptions,
    schema.subscription_groups,
    schema.address_subscriptions,
    schema.events,
)
"""The tables the copy keeps current; the rest of `COPIED` comes from the store."""
FROM_STORE = tuple(t for t in COPIED if t not in KEPT)
ALIAS = "clarion_copy"
STATE = "clarion_copy_state"
HOW = "the DuckDB copy kept current from the event log"


def _select(table_name: str, columns: list[tuple[str, str]]) -> str:
    """One workspace's rows of a copied table, times as naive UTC (as `StoreCopy` has them)."""
    cells = ", ".join(
        f"timezone('UTC', {quoted(name)}) AS {quoted(name)}"
        if kind == "timestamp"
        else quoted(name)
        for name, kind in columns
    )
    return f"SELECT {cells} FROM {ALIAS}.{quoted(table_name)} WHERE workspace_id = $w"


@dataclass(frozen=True, slots=True)
class _Taken:
    """The copy's position (and times, µs) when rows were taken from it."""

    txid: int
    seq: int
    synced: int | None
    received: int | None

    def freshness(self) -> CopyFreshness:
        return CopyFreshness(
            from_micros(self.synced) if self.synced else None,
            from_micros(self.received) if self.received else None,
        )


class MaintainedCopy:
    """The `ProfileProvider` of DuckDB sources when the audience copy is kept."""

    def __init__(self, copy: DuckDbCopy, store: StoreCopy) -> None:
        self.copy, self.store = copy, store

    def provide(self, source: DataSource, workspace_id: str) -> Freshness:
        if not isinstance(source, DuckDbSource):
            return self.store.provide(source, workspace_id)
        self.store.provide_tables(source, workspace_id, FROM_STORE)
        with source.exclusive():
            source.execute(
                f"CREATE TABLE IF NOT EXISTS {STATE} (workspace_id VARCHAR PRIMARY KEY,"
                " txid BIGINT, seq BIGINT, synced_at BIGINT, last_received_at BIGINT)",
                {},
            )
            last = self._last(source, workspace_id)
            try:
                fresh: CopyFreshness | None = self._take(source, workspace_id, last)
            except DataSourceError:  # the copy's file is being written by another process
                fresh = last.freshness() if last is not None else None
        if fresh is None:
            return self.store.provide(source, workspace_id)
        how = HOW if fresh.synced_at is not None else HOW + " (it has applied nothing yet)"
        return Freshness(fresh.synced_at, how, fresh.last_event_received_at)

    def _take(self, source: DuckDbSource, workspace_id: str, last: _Taken | None) -> CopyFreshness:
        """The workspace's rows from the copy, unless it has applied nothing since last time."""
        with self.copy.held() as path:
            literal = "'" + str(path).replace("'", "''") + "'"
            source.execute(f"ATTACH {literal} AS {ALIAS} (READ_ONLY)", {})
            try:
                _names, rows = source.fetch(
                    f"SELECT txid, seq, synced_at, last_received_at FROM {ALIAS}.copy_position"
                    " WHERE id = 1",
                    {},
                )
                now = _Taken(*rows[0]) if rows else _Taken(0, 0, None, None)
                if now == last and all(source.has_table(t.name) for t in KEPT):
                    return now.freshness()
                for table in KEPT:
                    columns = [(c.name, column_kind(c.type)) for c in table.columns]
                    source.create_table(
                        table.name, _select(table.name, columns), {"w": workspace_id}
                    )
            finally:
                source.execute(f"DETACH {ALIAS}", {})
        source.execute(
            f"INSERT OR REPLACE INTO {STATE} VALUES ($w, $t, $s, $at, $r)",
            {"w": workspace_id, "t": now.txid, "s": now.seq, "at": now.synced, "r": now.received},
        )
        return now.freshness()

    def _last(self, source: DuckDbSource, workspace_id: str) -> _Taken | None:
        """Where the copy was when rows were last taken from it, if they were."""
        _names, rows = source.fetch(
            f"SELECT txid, seq, synced_at, last_received_at FROM {STATE} WHERE workspace_id = $w",
            {"w": workspace_id},
        )
        return _Taken(*rows[0]) if rows else None
