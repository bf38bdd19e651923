"""A DuckDB copy of profiles, identities, events and consent, kept current from the log.

Batch counts on DuckDB read this copy instead of the primary store. A log
consumer (after the identity stage, so events carry their profile ids) appends
each batch's events, re-copies the rows of the profiles the batch touched,
follows merges and erasures, and records the log position it has applied in
the same DuckDB transaction: a batch that comes again after a crash is
recognised and skipped, so the copy never holds an event twice.

The file is opened for each batch and each count and closed again, because
DuckDB lets one process at a time open a file for writing (`clarion serve` and
`clarion worker` may both run).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
from sqlalchemy import Table, select

from clarion.audiences.duckdb_tables import create_tables
from clarion.audiences.resolver import Resolver
from clarion.audiences.sql.run import duckdb_count, duckdb_members
from clarion.clock import Clock, from_micros, to_micros
from clarion.model.audience import Definition
from clarion.model.events import LoggedEvent
from clarion.profiles import IDENTITY_STAGE
from clarion.storage import schema
from clarion.storage.base import ConsumerBatch, Tx

COPY_CONSUMER = "duckdb-copy"
PROFILE_TABLES: tuple[Table, ...] = (schema.profiles, schema.identities, schema.subscriptions)
"""Rows keyed by profile: re-copied for the profiles a batch touches."""
WORKSPACE_TABLES: tuple[Table, ...] = (schema.subscription_groups, schema.address_subscriptions)
"""Rows keyed by address or group: re-copied when a batch carries a consent change."""
CONSENT_EVENTS = {"profile.consent_changed", "message.unsubscribed", "profile.erased"}
JSON_COLUMNS = {"traits", "trait_times", "properties", "payload"}


@dataclass(frozen=True, slots=True)
class CopyFreshness:
    """How current the copy is: the log position and time of the last applied batch."""

    synced_at: datetime | None
    last_event_received_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": "duckdb copy",
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
            "last_event_received_at": (
                self.last_event_received_at.isoformat() if self.last_event_received_at else None
            ),
        }


class DuckDbCopy:
    """The copy's file and what reads and writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            create_tables(con, (*PROFILE_TABLES, *WORKSPACE_TABLES, schema.events))
            con.execute(
                "CREATE TABLE IF NOT EXISTS copy_position (id INTEGER PRIMARY KEY, txid BIGINT,"
                " seq BIGINT, synced_at BIGINT, last_received_at BIGINT)"
            )

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work (the file is not held open between them)."""
        with self._lock:
            con = duckdb.connect(str(self.path), read_only=read_only)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def held(self) -> Iterator[Path]:
        """The file, while no unit of work of this process uses it (to attach it read-only)."""
        with self._lock:
            yield self.path

    def position(self, con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        row = con.execute("SELECT txid, seq FROM copy_position WHERE id = 1").fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def freshness(self) -> CopyFreshness:
        with self.connect(read_only=True) as con:
            row = con.execute(
                "SELECT synced_at, last_received_at FROM copy_position WHERE id = 1"
            ).fetchone()
        if row is None:
            return CopyFreshness(None, None)
        return CopyFreshness(from_micros(row[0]), from_micros(row[1]) if row[1] else None)

    def count(
        self, definition: Definition, workspace_id: str, now: datetime, resolver: Resolver
    ) -> tuple[int, CopyFreshness]:
        """The exact count on the copy, and how fresh the copy was when counted."""
        fresh = self.freshness()
        with self.connect(read_only=True) as con:
            found = duckdb_count(
                con, definition, workspace_id=workspace_id, now=now, resolver=resolver
            )
        return found, fresh

    def members(
        self, definition: Definition, workspace_id: str, now: datetime, resolver: Resolver
    ) -> tuple[list[str], CopyFreshness]:
        """The members' profile ids on the copy (sorted), and how fresh the copy was."""
        fresh = self.freshness()
        with self.connect(read_only=True) as con:
            found = duckdb_members(
                con, definition, workspace_id=workspace_id, now=now, resolver=resolver
            )
        return found, fresh

    def apply(self, tx: Tx, batch: ConsumerBatch, now: datetime) -> None:
        """Apply one log batch (skipped when the copy already holds it)."""
        if not batch.events:
            return
        last = batch.events[-1]
        with self.connect() as con:
            if self.position(con) >= last.position:
                return
            con.execute("BEGIN")
            by_workspace: dict[str, list[LoggedEvent]] = {}
            for event in batch.events:
                by_workspace.setdefault(event.workspace_id, []).append(event)
            for workspace_id, events in by_workspace.items():
                _apply_workspace(con, tx, workspace_id, events)
            con.execute(
                "INSERT OR REPLACE INTO copy_position VALUES (1, $t, $s, $at, $r)",
                {
                    "t": last.position[0],
                    "s": last.position[1],
                    "at": to_micros(now),
                    "r": max(e.received_at_us for e in batch.events),
                },
            )
            con.execute("COMMIT")


def _apply_workspace(
    con: duckdb.DuckDBPyConnection, tx: Tx, workspace_id: str, events: Sequence[LoggedEvent]
) -> None:
    touched = {e.profile_id for e in events if e.profile_id}
    for event in events:
        merged = event.properties.get("merged_id") if event.event == "profile.merged" else None
        if merged and event.profile_id:
            con.execute(
                "UPDATE events SET profile_id = $s WHERE workspace_id = $w AND profile_id = $m",
                {"s": event.profile_id, "w": workspace_id, "m": str(merged)},
            )
            touched.add(str(merged))
        if event.event == "profile.erased":
            _forget(con, workspace_id, str(event.properties.get("subject_hash")))
    rows = [
        (
            e.seq,
            e.txid,
            e.workspace_id,
            e.message_id,
            e.type,
            e.event,
            e.user_id,
            e.anonymous_id,
            e.profile_id,
            orjson.dumps(e.properties).decode(),
            orjson.dumps(e.payload).decode(),
            e.timestamp_us,
            e.received_at_us,
            e.origin,
        )
        for e in events
        if e.event != "profile.erased"
    ]
    if rows:
        con.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    _recopy(con, tx, workspace_id, sorted(touched))
    if any(e.event in CONSENT_EVENTS or e.type == "identify" for e in events):
        for table in WORKSPACE_TABLES:
            _replace(con, tx, table, workspace_id, None)


def _forget(con: duckdb.DuckDBPyConnection, workspace_id: str, subject_hash: str) -> None:
    """Delete an erased person's rows, known only by sha256("workspace:profile")."""
    keyed = [("events", "profile_id"), ("profiles", "id")]
    keyed += [(t.name, "profile_id") for t in PROFILE_TABLES[1:]]
    for table, key in keyed:
        con.execute(
            f"DELETE FROM {table} WHERE workspace_id = $w"
            f" AND sha256(workspace_id || ':' || {key}) = $h",
            {"w": workspace_id, "h": subject_hash},
        )


def _recopy(
    con: duckdb.DuckDBPyConnection, tx: Tx, workspace_id: str, profile_ids: list[str]
) -> None:
    for start in range(0, len(profile_ids), 500):
        chunk = profile_ids[start : start + 500]
        for table in PROFILE_TABLES:
            _replace(con, tx, table, workspace_id, chunk)


def _replace(
    con: duckdb.DuckDBPyConnection,
    tx: Tx,
    table: Table,
    workspace_id: str,
    profile_ids: list[str] | None,
) -> None:
    """Make the copy's rows of `table` (of these profiles, or the whole workspace) the store's."""
    key = "id" if table is schema.profiles else "profile_id"
    where = [table.c.workspace_id == workspace_id]
    sql = f"DELETE FROM {table.name} WHERE workspace_id = $w"
    params: dict[str, Any] = {"w": workspace_id}
    if profile_ids is not None:
        where.append(table.c[key].in_(profile_ids))
        sql += f" AND {key} IN (SELECT unnest($ids))"
        params["ids"] = profile_ids
    con.execute(sql, params)
    rows = [_cells(table, r) for r in tx.conn.execute(select(table).where(*where))]  # type: ignore[attr-defined]
    if rows:
        marks = ", ".join("?" for _ in table.columns)
        con.executemany(f"INSERT INTO {table.name} VALUES ({marks})", rows)


def _cells(table: Table, row: Any) -> tuple[Any, ...]:
    values = row._mapping
    return tuple(
        orjson.dumps(values[c.name]).decode() if c.name in JSON_COLUMNS else values[c.name]
        for c in table.columns
    )


class CopyConsumer:
    """The log consumer that keeps a `DuckDbCopy` current."""

    name = COPY_CONSUMER
    after = IDENTITY_STAGE

    def __init__(self, copy: DuckDbCopy, clock: Clock) -> None:
        self.copy, self._clock = copy, clock

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        self.copy.apply(tx, batch, self._clock.now())
