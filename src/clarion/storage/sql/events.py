"""The event log in SQL: durable appends, and cursors that never skip an event.

Ordering. Consumers read in `(txid, seq)` order. On SQLite one writer at a time
assigns `seq` inside its write lock, so `txid` is always 0 and `seq` order is
commit order (polls there read by `seq` alone, the rowid). On PostgreSQL
several transactions append at once: a `seq` taken by one may commit after a
higher one. Each row therefore records its transaction id, and a consumer only
reads rows whose `txid` is below the snapshot's `xmin`: every transaction below
it has finished, so no row can ever appear behind the cursor.

Watermark. A consumer's watermark W means "every event received before W is
processed". A poll reads the time P first, then takes its own transaction id
X (ids are handed out in increasing order). An append takes its transaction id
first and its `received_at` after, so any append with an id above X has
`received_at` >= P. Once a later poll's snapshot `xmin` is above X, every
transaction up to X has finished and its events were visible to that poll; when
the consumer has caught up with that poll, P becomes the watermark. On SQLite,
where a consumer polls inside the write lock, no append is half-done and P is
valid at once.

Filtered polls. A consumer that reads only some events (`reads`) gets only
those; its cursor still moves past the others. While the filtered rows fill a
batch the cursor moves to the last row returned; once a poll is caught up it
moves to the highest position that poll could see (below `xmin`, and within the
upstream stage's cursor with `after`), so skipped rows are not scanned again.
No row can appear behind that position later, for the reason above, so a
filtered consumer misses nothing it reads, and its watermark means the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    column,
    delete,
    false,
    or_,
    select,
    text,
    tuple_,
    update,
    values,
)

from clarion.clock import to_micros
from clarion.model.events import LoggedEvent, NewEvent, corrected_timestamp
from clarion.storage.base import Appended, ConsumerBatch, EventFacts, EventFilter
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import consumer_cursors, events
from clarion.storage.sql.dialect import in_json_list, insert_ignoring_conflicts, json_reader
from clarion.storage.sql.driver import execute

_PG_COLUMNS = {
    "txid": "bigint",
    "workspace_id": "text",
    "message_id": "text",
    "type": "text",
    "event": "text",
    "user_id": "text",
    "anonymous_id": "text",
    "profile_id": "text",
    "properties": "jsonb",
    "payload": "jsonb",
    "timestamp": "bigint",
    "received_at": "bigint",
    "origin": "text",
}
# The rows travel as one JSON array of arrays, each (message_id, type, event, user_id,
# anonymous_id, profile_id, properties, payload, timestamp, origin): `r->>0` ... `r->>9`
# below. The driver dumps a Python list as an array element by element, ~70 µs a row.
_PG_APPEND = text(
    f"INSERT INTO events ({', '.join(_PG_COLUMNS)}) SELECT :txid, :w, r->>0, r->>1, r->>2,"
    " r->>3, r->>4, r->>5, r->6, r->7, CAST(r->>8 AS bigint), :received, r->>9"
    " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r"
    " ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING message_id, seq"
)
_SQLITE_APPEND = (
    f"INSERT INTO events ({', '.join(_PG_COLUMNS)}) VALUES ({', '.join('?' for _ in _PG_COLUMNS)})"
    " ON CONFLICT (workspace_id, message_id) DO NOTHING"
)

# The track events of these profiles with these names, in log order.
_TRACKS = {
    dialect: text(
        "SELECT profile_id, event, timestamp, properties FROM events WHERE workspace_id = :w"
        f" AND {in_json_list(dialect, 'profile_id', 'ids')} AND type = 'track'"
        f" AND {in_json_list(dialect, 'event', 'names')} ORDER BY seq"
    )
    for dialect in ("sqlite", "postgresql")
}

_NO_XMIN = 2**62
"""SQLite's stand-in for 'every stored row is final'."""


WATERMARK_STEP_US = 100_000
"""A poll that only moves a watermark forward by less than this (0.1 s) writes nothing:
a write transaction costs a sync to disk, and consumers with nothing to do poll after
every append. Timers wait for a watermark at most this much longer."""


def _only_a_small_step(cursor: Any, values: dict[str, Any]) -> bool:
    """Whether the cursor update would only move the watermark, by less than a step."""
    if any(
        values.get(key, getattr(cursor, key)) != getattr(cursor, key)
        for key in ("txid", "seq", "pending_at", "pending_bound")
    ):
        return False
    step = int(values.get("watermark", cursor.watermark)) - int(cursor.watermark)
    return step < WATERMARK_STEP_US


SKIPPED_LAG = 1000
"""A filtered consumer's cursor may stay up to this many events behind what it has
skipped (`worth_advancing`): at 1,000 events/s, each consumer with nothing to do
would otherwise take the write lock after every append just to move its cursor."""


_CURSOR = (
    "SELECT txid, seq, watermark, pending_at, pending_bound FROM consumer_cursors"
    ' WHERE consumer = ? AND "partition" = ?'
)
_CURSOR_FOR_UPDATE = f"{_CURSOR} FOR UPDATE"
_CURSOR_COLUMNS = ("txid", "seq", "watermark", "pending_at", "pending_bound")
_MOVE_CURSOR = (
    "UPDATE consumer_cursors SET txid = ?, seq = ?, watermark = ?, pending_at = ?,"
    ' pending_bound = ? WHERE consumer = ? AND "partition" = ?'
)
"""The whole row, from the cursor as this transaction read it (a poll holds it locked)."""
_POLLS: dict[tuple[bool, EventFilter | None, bool], tuple[Select[Any], Select[Any]]] = {}


def _poll_queries(
    bounded: bool, reads: EventFilter | None, pg: bool
) -> tuple[Select[Any], Select[Any]]:
    """A poll's statements, built once per shape (building one costs more than running
    it): the batch, and the last position the poll can see. Parameters: the cursor
    (`ct`, `cs`), `xmin`, `limit`, and with `bounded` the upstream cursor (`ut`, `us`).

    On SQLite, where `txid` is always 0, positions are `seq` alone: the rowid, so the
    log needs no `(txid, seq)` index there (one index fewer to update per append)."""
    key = (bounded, reads, pg)
    if key not in _POLLS:
        order: tuple[Column[Any], ...]
        if pg:
            position = tuple_(events.c.txid, events.c.seq)
            visible = [
                position > tuple_(bindparam("ct"), bindparam("cs")),
                events.c.txid < bindparam("xmin"),
            ]
            if bounded:
                visible.append(position <= tuple_(bindparam("ut"), bindparam("us")))
            order = (events.c.txid, events.c.seq)
        else:
            visible = [events.c.seq > bindparam("cs")]
            if bounded:
                visible.append(events.c.seq <= bindparam("us"))
            order = (events.c.seq,)
        batch = select(*_LOGGED).where(*visible)
        if reads is not None:
            batch = batch.where(_read_by(reads))
        batch = batch.order_by(*order).limit(bindparam("limit"))
        last = (
            select(events.c.txid, events.c.seq)
            .where(*visible)
            .order_by(*(column.desc() for column in order))
            .limit(1)
        )
        _POLLS[key] = (batch, last)
    return _POLLS[key]


def _read_by(reads: EventFilter) -> ColumnElement[bool]:
    """The SQL condition of an `EventFilter`."""
    terms: list[ColumnElement[bool]] = []
    if reads.types:
        terms.append(events.c.type.in_(sorted(reads.types)))
    if reads.names:
        terms.append(events.c.event.in_(sorted(reads.names)))
    terms.extend(events.c.event.startswith(p, autoescape=True) for p in reads.prefixes)
    if not terms:
        return false()
    if not reads.skip:
        return or_(*terms)
    kept = or_(events.c.event.is_(None), events.c.event.not_in(sorted(reads.skip)))
    return and_(or_(*terms), kept)


_LOGGED = (
    events.c.seq,
    events.c.txid,
    events.c.workspace_id,
    events.c.type,
    events.c.message_id,
    events.c.event,
    events.c.user_id,
    events.c.anonymous_id,
    events.c.profile_id,
    events.c.properties,
    events.c.payload,
    events.c.timestamp,
    events.c.received_at,
    events.c.origin,
)
"""The columns of a `LoggedEvent`, in its fields' order: a poll builds each from its
row's values by position (attribute access on a row costs ~10 µs an event)."""
_from_columns: Callable[..., LoggedEvent] = LoggedEvent


def logged_event(row: Any) -> LoggedEvent:
    """A `LoggedEvent` from an `events` row."""
    return LoggedEvent(
        seq=row.seq,
        txid=row.txid,
        workspace_id=row.workspace_id,
        type=row.type,
        message_id=row.message_id,
        event=row.event,
        user_id=row.user_id,
        anonymous_id=row.anonymous_id,
        profile_id=row.profile_id,
        properties=row.properties,
        payload=row.payload,
        timestamp_us=row.timestamp,
        received_at_us=row.received_at,
        origin=row.origin,
    )


class SqlEventLog:
    """`EventLog` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._pg = dialect == "postgresql"
        self._dialect = dialect
        self._polled: dict[tuple[str, int], Any] = {}
        """Cursors locked by a poll in this transaction, as read, for `advance`."""
        self._cursors: dict[tuple[str, int], Any] = {}
        """Cursor rows read in this transaction (SQLite), until it writes them."""

    def append(
        self,
        workspace_id: str,
        new_events: Sequence[NewEvent],
        now: datetime,
        *,
        seqs: bool = True,
    ) -> list[Appended]:
        if not new_events:
            return []
        txid = self._conn.execute(text("SELECT txid_current()")).scalar_one() if self._pg else 0
        # Taken after the transaction id exists: the watermark depends on it.
        received = now
        received_us = to_micros(received)
        rows: list[tuple[Any, ...]] = []  # in `_PG_APPEND`'s order
        seen: set[str] = set()
        for e in new_events:
            if e.message_id in seen:
                continue
            seen.add(e.message_id)
            moment = corrected_timestamp(received, e.timestamp, e.sent_at)
            rows.append(
                (
                    e.message_id,
                    e.type,
                    e.event,
                    e.user_id,
                    e.anonymous_id,
                    e.profile_id,
                    e.properties,
                    e.payload,
                    to_micros(moment),
                    e.origin,
                )
            )
        if self._pg:
            stored = self._append_pg(workspace_id, txid, received_us, rows)
        else:
            stored = self._append_sqlite(workspace_id, received_us, rows, seqs)
        if not seqs:
            return []
        return [Appended(e.message_id, stored.pop(e.message_id, None)) for e in new_events]

    def _append_pg(
        self, workspace_id: str, txid: int, received_us: int, rows: list[tuple[Any, ...]]
    ) -> dict[str, int]:
        """One INSERT ... SELECT FROM jsonb_array_elements per chunk: a short statement that
        the driver parses once (a multi-row VALUES statement is re-parsed for every chunk)."""
        stored: dict[str, int] = {}
        for start in range(0, len(rows), 5000):
            document = orjson.dumps(rows[start : start + 5000]).decode()
            params = {"txid": txid, "w": workspace_id, "received": received_us, "rows": document}
            stored.update((r[0], r[1]) for r in self._conn.execute(_PG_APPEND, params))
        return stored

    def _append_sqlite(
        self, workspace_id: str, received_us: int, rows: list[tuple[Any, ...]], seqs: bool
    ) -> dict[str, int]:
        """The driver's executemany, then (if wanted) the new rows' `seq`s: this transaction
        holds SQLite's only write lock, so every row above the old maximum is one of these."""
        if seqs:
            before = self._conn.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM events").scalar()
        dumps = orjson.dumps
        self._conn.exec_driver_sql(
            _SQLITE_APPEND,
            [
                # In `_PG_COLUMNS` order; txid is always 0 on SQLite.
                (
                    0,
                    workspace_id,
                    m,
                    kind,
                    name,
                    user,
                    anonymous,
                    profile,
                    dumps(properties).decode(),
                    dumps(payload).decode(),
                    at,
                    received_us,
                    origin,
                )
                for m, kind, name, user, anonymous, profile, properties, payload, at, origin in rows
            ],
        )
        if not seqs:
            return {}
        found = self._conn.exec_driver_sql(
            "SELECT message_id, seq FROM events WHERE seq > ?", (before,)
        )
        return {str(m): int(q) for m, q in found}

    def _snapshot(self) -> tuple[int, int]:
        """(xmin, bound): transactions below xmin have finished; ids above `bound`
        (this transaction's own id) were handed out after this call began."""
        if not self._pg:
            return _NO_XMIN, 0
        row = self._conn.execute(
            text("SELECT txid_snapshot_xmin(txid_current_snapshot()), txid_current()")
        ).one()
        return int(row[0]), int(row[1])

    def _cursor(self, consumer: str, partition: int, lock: bool) -> Any:
        """A consumer's cursor row. On SQLite a transaction's reads are kept: only its
        own writes (`lock`, `advance`, which forget them) could change the row."""
        key = (consumer, partition)
        if not self._pg and key in self._cursors:
            return self._cursors[key]
        query = _CURSOR_FOR_UPDATE if lock and self._pg else _CURSOR
        row = execute(self._conn, self._dialect, query, key).first()
        if not self._pg:
            self._cursors[key] = row
        return row

    def lock(self, consumer: str, partition: int = 0) -> None:
        self._cursors.pop((consumer, partition), None)
        self._conn.execute(
            insert_ignoring_conflicts(
                self._dialect, consumer_cursors, "consumer", "partition"
            ).values(consumer=consumer, partition=partition, txid=0, seq=0, watermark=0)
        )
        self._cursor(consumer, partition, lock=True)

    def poll(
        self,
        consumer: str,
        limit: int,
        now: datetime,
        partition: int = 0,
        after: str | None = None,
        reads: EventFilter | None = None,
    ) -> ConsumerBatch:
        horizon_us = to_micros(now)
        xmin, bound = self._snapshot()
        cursor = self._cursor(consumer, partition, lock=True)
        if cursor is None:  # a new consumer
            self.lock(consumer, partition)
            cursor = self._cursor(consumer, partition, lock=False)
        self._polled[(consumer, partition)] = cursor
        params = {"ct": cursor.txid, "cs": cursor.seq, "xmin": xmin, "limit": limit}
        if after is not None:
            upstream = self._cursor(after, partition, lock=False)
            params["ut"], params["us"] = (upstream.txid, upstream.seq) if upstream else (0, 0)
            if upstream is not None:
                # The upstream stage's watermark bounds ours.
                horizon_us = min(horizon_us, upstream.watermark)
            else:
                horizon_us = 0
        batch_query, last_query = _poll_queries(after is not None, reads, self._pg)
        rows = self._conn.execute(batch_query, params).all()
        caught_up = len(rows) < limit
        moved_to = None
        if reads is not None and caught_up:
            # Past the skipped rows too: the last one this poll could see.
            last = self._conn.execute(last_query, params).first()
            moved_to = (int(last.txid), int(last.seq)) if last is not None else None
        return ConsumerBatch(
            consumer=consumer,
            partition=partition,
            events=[_from_columns(*r) for r in rows],
            caught_up=caught_up,
            horizon_us=horizon_us,
            xmin=xmin,
            bound=bound,
            position=moved_to,
        )

    def advance(self, batch: ConsumerBatch) -> None:
        # The poll's cursor, still locked by this transaction (read again if not polled here).
        cursor = self._polled.pop((batch.consumer, batch.partition), None)
        if cursor is None:
            cursor = self._cursor(batch.consumer, batch.partition, lock=False)
        values: dict[str, Any] = {}
        if batch.position is not None:
            values["txid"], values["seq"] = batch.position
        elif batch.events:
            values["txid"], values["seq"] = batch.events[-1].position
        if batch.caught_up:
            watermark, pending_at, pending_bound = (
                cursor.watermark,
                cursor.pending_at,
                cursor.pending_bound,
            )
            if pending_at is not None and pending_bound < batch.xmin:
                watermark, pending_at = max(watermark, pending_at), None
            if pending_at is None:
                if batch.bound <= batch.xmin:  # nothing else was running: valid now
                    watermark = max(watermark, batch.horizon_us)
                else:
                    pending_at, pending_bound = batch.horizon_us, batch.bound
            values.update(watermark=watermark, pending_at=pending_at, pending_bound=pending_bound)
        if values and not _only_a_small_step(cursor, values):
            self._cursors.pop((batch.consumer, batch.partition), None)
            row = [values.get(column, getattr(cursor, column)) for column in _CURSOR_COLUMNS]
            execute(
                self._conn, self._dialect, _MOVE_CURSOR, (*row, batch.consumer, batch.partition)
            )

    def worth_advancing(self, batch: ConsumerBatch) -> bool:
        cursor = self._polled.get((batch.consumer, batch.partition))
        if cursor is None or batch.events or cursor.pending_at is not None:
            return True
        if batch.position is not None:
            txid, seq = batch.position
            if txid != cursor.txid or seq - cursor.seq >= SKIPPED_LAG:
                return True
        if batch.caught_up and batch.bound > batch.xmin:
            return True  # an append may still be running: the watermark waits (PostgreSQL)
        return batch.caught_up and batch.horizon_us - cursor.watermark >= WATERMARK_STEP_US

    def stamp(self, stamps: Sequence[tuple[int, str]]) -> None:
        if not stamps:
            return
        if not self._pg:
            self._conn.execute(
                update(events)
                .where(events.c.seq == bindparam("s_seq"))
                .values(profile_id=bindparam("s_pid")),
                [{"s_seq": seq, "s_pid": pid} for seq, pid in stamps],
            )
            return
        # PostgreSQL: one UPDATE ... FROM (VALUES ...) per chunk rather than a
        # statement per row.
        for start in range(0, len(stamps), 1000):
            rows = values(column("s_seq", BigInteger), column("s_pid", String), name="stamps").data(
                list(stamps[start : start + 1000])
            )
            self._conn.execute(
                update(events).where(events.c.seq == rows.c.s_seq).values(profile_id=rows.c.s_pid)
            )

    def drop(self, seqs: Sequence[int]) -> None:
        if seqs:
            self._conn.execute(delete(events).where(events.c.seq.in_(list(seqs))))

    def for_profile(
        self, workspace_id: str, profile_id: str, limit: int, before_seq: int | None = None
    ) -> list[LoggedEvent]:
        query = select(events).where(
            events.c.workspace_id == workspace_id, events.c.profile_id == profile_id
        )
        if before_seq is not None:
            query = query.where(events.c.seq < before_seq)
        rows = self._conn.execute(query.order_by(events.c.seq.desc()).limit(limit))
        return [logged_event(r) for r in rows]

    def named(
        self, workspace_id: str, profile_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, list[LoggedEvent]]:
        """The events of these names of several profiles, oldest first, per profile."""
        found: dict[str, list[LoggedEvent]] = {}
        ids = list(dict.fromkeys(profile_ids))
        if not names:
            return found
        for start in range(0, len(ids), 500):
            rows = self._conn.execute(
                select(events)
                .where(
                    events.c.workspace_id == workspace_id,
                    events.c.profile_id.in_(ids[start : start + 500]),
                    events.c.event.in_(list(names)),
                )
                .order_by(events.c.seq)
            )
            for row in rows:
                found.setdefault(row.profile_id, []).append(logged_event(row))
        return found

    def tracks(
        self, workspace_id: str, profile_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, list[EventFacts]]:
        found: dict[str, list[EventFacts]] = {}
        ids = list(dict.fromkeys(profile_ids))
        statement = _TRACKS["postgresql" if self._pg else "sqlite"]
        wanted = orjson.dumps(list(names)).decode()
        load = json_reader("postgresql" if self._pg else "sqlite")
        for start in range(0, len(ids) if names else 0, 5000):
            params = {"w": workspace_id, "ids": orjson.dumps(ids[start : start + 5000]).decode()}
            rows = self._conn.execute(statement, {**params, "names": wanted})
            for pid, name, timestamp, properties in rows.all():
                found.setdefault(pid, []).append(EventFacts(pid, name, timestamp, load(properties)))
        return found

    def watermark(self, consumer: str, partition: int = 0) -> int | None:
        cursor = self._cursor(consumer, partition, lock=False)
        return cursor.watermark if cursor else None

    def position(self, consumer: str, partition: int = 0) -> tuple[int, int]:
        cursor = self._cursor(consumer, partition, lock=False)
        return (cursor.txid, cursor.seq) if cursor else (0, 0)


@erasure_hook("events")
def _erase_events(tx: Any, workspace_id: str, profile_id: str) -> int:
    result = tx.conn.execute(
        delete(events).where(
            events.c.workspace_id == workspace_id, events.c.profile_id == profile_id
        )
    )
    return int(result.rowcount)
