"""Audience benchmarks.

    .venv/bin/python -m bench.audiences [--events 20000] [--profiles 1000000]
        [--log-events 10000000] [--engines duckdb,sqlite,postgresql] [--only a|b]

(a) Real-time: 50 live audiences of mixed kinds (traits, counted and windowed
    events, absences, consent, identities, nested audiences); N events from
    N/4 people are appended and stamped by the identity stage first, then the
    audience consumer is timed alone: events/s with durable memberships,
    `audience.entered`/`exited` events and window timers, per backend; then
    also with its pass over those membership events once they come back to it.
(b) Batch: the exact count of the issue's 3-condition audience (country,
    2+ orders of 100+ in 30 days, never closed the account) over P profiles and
    E events, identical data on every engine (generated once in DuckDB). Only
    the count is timed; loading and indexing are reported separately.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psycopg
from sqlalchemy import insert

from bench._server import create_workspace, fresh_database, machine
from clarion.api.runtime import builtin_kinds
from clarion.audiences import count, duckdb_count
from clarion.audiences.duckdb_tables import create_tables
from clarion.audiences.membership import AudienceConsumer
from clarion.clock import SystemClock, to_micros
from clarion.documents import KindRegistry, apply_documents
from clarion.model.audience import parse_definition
from clarion.model.events import NewEvent
from clarion.processing.consumers import drain
from clarion.processing.heap import settle_heap
from clarion.profiles import IdentityStage
from clarion.storage.schema import events, profiles
from clarion.storage.sql import SqlDatabase

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
COUNTRIES = ["SE", "NO", "DK", "FI", "DE", "US", "GB", "FR", "NL", "ES"]
NAMES = ["Order Completed", "Account Closed", "Product Viewed", "Page Viewed", "Signed In"]

FREQUENT = {
    "all": [
        {"trait": {"path": "country", "op": "eq", "value": "SE"}},
        {
            "performed": {
                "event": "Order Completed",
                "where": [{"path": "total", "op": "gte", "value": 100}],
                "count": {"op": "gte", "value": 2},
                "within": {"last": 30, "unit": "days"},
            }
        },
        {"not": {"performed": {"event": "Account Closed"}}},
    ]
}


# --- (a) real time -----------------------------------------------------------


def fifty_audiences() -> list[dict[str, Any]]:
    """50 audiences of mixed kinds, as documents."""
    docs: list[dict[str, Any]] = []

    def add(name: str, definition: dict[str, Any]) -> None:
        docs.append({"kind": "audience", "name": name, "definition": definition})

    for i, country in enumerate(COUNTRIES):
        add(f"country-{i}", {"trait": {"path": "country", "op": "eq", "value": country}})
    for i in range(10):
        add(
            f"buyers-{i}",
            {
                "performed": {
                    "event": "Order Completed",
                    "where": [{"path": "total", "op": "gte", "value": 50 * i}],
                    "count": {"op": "gte", "value": 1 + i % 3},
                    "within": {"last": 7 + i, "unit": "days"},
                }
            },
        )
    for i in range(10):
        add(f"idle-{i}", {"not_performed": {"event": NAMES[2 + i % 3], "within": f"{i + 1}d"}})
    for i in range(5):
        add(f"mailable-{i}", {"subscribed": {"channel": ["email", "sms", "push"][i % 3]}})
    for i in range(5):
        add(f"has-{i}", {"identity": {"namespace": ["email", "phone", "user_id"][i % 3]}})
    for i in range(5):
        add(
            f"nested-{i}",
            {"all": [{"in_audience": f"country-{i}"}, {"in_audience": f"buyers-{i}"}]},
        )
    for i in range(5):
        add(
            f"mixed-{i}",
            {
                "any": [
                    {"trait": {"path": "age", "op": "between", "value": [20 + i, 40 + i]}},
                    {
                        "all": [
                            {"trait": {"path": "plan", "op": "in", "value": ["pro", "team"]}},
                            {
                                "performed": {
                                    "event": "Signed In",
                                    "within": {"last": 2, "unit": "days"},
                                }
                            },
                        ]
                    },
                ]
            },
        )
    assert len(docs) == 50
    return docs


def log_events(n: int, start: int) -> Iterator[NewEvent]:
    """Events of n/4 people: an identify with traits, then tracks."""
    people = max(1, n // 4)
    for k in range(start, start + n):
        person = k % people
        if k < people:
            traits = {
                "country": COUNTRIES[person % 10],
                "age": 18 + person % 50,
                "plan": ["free", "pro", "team"][person % 3],
                "email": f"p{person}@example.com",
            }
            yield NewEvent(
                type="identify",
                message_id=f"i-{k}",
                user_id=f"u{person}",
                payload={"traits": traits},
                origin="secret_key",
            )
        else:
            name = NAMES[k % 5 if k % 5 != 1 or k % 97 == 0 else 0]
            yield NewEvent(
                type="track",
                message_id=f"t-{k}",
                event=name,
                user_id=f"u{person}",
                properties={"total": (k * 37) % 500},
                origin="secret_key",
            )


def prepare_realtime(db_url: str, n: int) -> tuple[SqlDatabase, str]:
    """A workspace with the 50 audiences and n events appended and stamped by the
    identity stage: what (a) times the audience consumer over."""
    db = SqlDatabase.from_url(db_url)
    workspace = create_workspace(db_url)["id"]
    clock = SystemClock()
    with db.write() as tx:
        apply_documents(
            tx, KindRegistry(builtin_kinds()), workspace, fifty_audiences(), clock.now()
        )
    batch: list[NewEvent] = []
    for event in log_events(n, 0):
        batch.append(event)
        if len(batch) == 1000:
            with db.write() as tx:
                tx.events.append(workspace, batch, clock.now())
            batch = []
    if batch:
        with db.write() as tx:
            tx.events.append(workspace, batch, clock.now())
    drain(db, clock, [IdentityStage(clock)], limit=2000)
    return db, workspace


def realtime(db_url: str, n: int) -> tuple[float, float]:
    """(input events/s, events/s counting the consumer's pass over its own membership
    events too: they come back to it through the log once the identity stage has
    passed them, as in a running worker)."""
    db, workspace = prepare_realtime(db_url, n)
    clock = SystemClock()
    settle_heap()  # as `clarion serve` and `clarion worker` do once started
    consumer = AudienceConsumer(clock)
    started = time.perf_counter()
    drain(db, clock, [consumer], limit=1000)
    seconds = time.perf_counter() - started
    drain(db, clock, [IdentityStage(clock)], limit=2000)  # its output, stamped (not timed)
    started = time.perf_counter()
    drain(db, clock, [consumer], limit=1000)
    follow_on = time.perf_counter() - started
    with db.read() as tx:
        total = sum(tx.audiences.count(workspace, d["name"]) for d in fifty_audiences())
    assert total > 0, "no memberships were written"
    print(f"    {total} memberships held after the run")
    db.close()
    return n / seconds, n / (seconds + follow_on)


# --- (b) batch ----------------------------------------------------------------


def generate(con: duckdb.DuckDBPyConnection, workspace: str, people: int, n: int) -> None:
    """Profiles and events in DuckDB (deterministic pseudo-random from hashes)."""
    create_tables(con)
    now_us = to_micros(NOW)
    span = int(timedelta(days=90).total_seconds() * 1_000_000)
    countries = "[" + ",".join(f"'{c}'" for c in COUNTRIES) + "]"
    others = "['Product Viewed', 'Page Viewed', 'Signed In']"
    con.execute(
        f"""INSERT INTO profiles SELECT printf('p%08d', i), $ws,
            json_object('country', {countries}[1 + (hash(i) % 10)::BIGINT],
                        'age', 18 + (hash(i + 1) % 60)::BIGINT),
            '{{}}'::JSON, NULL, NULL, false, $now, $now FROM range({people}) t(i)""",
        {"ws": workspace, "now": NOW},
    )
    con.execute(
        f"""INSERT INTO events SELECT i + 1, 0, $ws, 'm' || i, 'track',
            CASE WHEN (hash(i) % 100)::BIGINT < 30 THEN 'Order Completed'
                 WHEN (hash(i) % 1000)::BIGINT < 305 THEN 'Account Closed'
                 ELSE {others}[1 + (hash(i + 3) % 3)::BIGINT] END,
            NULL, NULL, printf('p%08d', (hash(i + 7) % {people})::BIGINT),
            json_object('total', (hash(i + 11) % 500)::BIGINT), '{{}}'::JSON,
            {now_us} - (hash(i + 13) % {span})::BIGINT, {now_us}, 'secret_key'
            FROM range({n}) t(i)""",
        {"ws": workspace},
    )


def rows(con: duckdb.DuckDBPyConnection, table: str) -> Iterator[tuple[Any, ...]]:
    cursor = con.execute(f"SELECT * FROM {table}")
    while chunk := cursor.fetchmany(50_000):
        yield from chunk


def load_sqlite(db: SqlDatabase, con: duckdb.DuckDBPyConnection) -> None:
    for table in (profiles, events):
        names = [c.name for c in table.columns]
        chunk: list[dict[str, Any]] = []
        with db.engine.begin() as conn:
            for row in rows(con, table.name):
                values = dict(zip(names, row, strict=True))
                for key in ("traits", "trait_times", "properties", "payload"):
                    if key in values:
                        values[key] = orjson.loads(values[key])
                chunk.append(values)
                if len(chunk) == 50_000:
                    conn.execute(insert(table), chunk)
                    chunk = []
            if chunk:
                conn.execute(insert(table), chunk)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def load_postgres(url: str, con: duckdb.DuckDBPyConnection) -> None:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as pg:
        for table in (profiles, events):
            names = ", ".join(c.name for c in table.columns)
            with pg.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows(con, table.name):
                    copy.write_row(row)
        pg.commit()
        pg.execute("ANALYZE profiles")
        pg.execute("ANALYZE events")
        pg.commit()


def batch(engines: list[str], people: int, n: int) -> None:
    definition = parse_definition(FREQUENT)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        con = duckdb.connect(str(Path(folder) / "copy.duckdb"))
        for engine in engines:
            with fresh_database("sqlite" if engine == "duckdb" else engine, Path(folder)) as url:
                workspace = create_workspace(url)["id"]
                if engine == "duckdb":
                    con.execute("DROP TABLE IF EXISTS profiles; DROP TABLE IF EXISTS events")
                    generate(con, workspace, people, n)
                    loaded = time.perf_counter() - started
                    timed = time.perf_counter()
                    found = duckdb_count(con, definition, workspace_id=workspace, now=NOW)
                else:
                    if not con.execute("SELECT count(*) FROM events").fetchone():
                        raise SystemExit("list duckdb first: it generates the data")
                    con.execute("UPDATE profiles SET workspace_id = $w", {"w": workspace})
                    con.execute("UPDATE events SET workspace_id = $w", {"w": workspace})
                    db = SqlDatabase.from_url(url)
                    began = time.perf_counter()
                    if engine == "sqlite":
                        load_sqlite(db, con)
                    else:
                        load_postgres(url, con)
                    loaded = time.perf_counter() - began
                    timed = time.perf_counter()
                    with db.read() as tx:
                        found = count(tx.conn, definition, workspace_id=workspace, now=NOW)
                    db.close()
                seconds = time.perf_counter() - timed
                print(
                    f"  (b) {engine:10} {people:,} profiles, {n:,} events: count {found:,} "
                    f"in {seconds:.2f} s (loading {loaded:.0f} s)"
                )
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="(a) events")
    parser.add_argument("--backends", default="sqlite,postgresql", help="(a) backends")
    parser.add_argument("--profiles", type=int, default=1_000_000, help="(b) profiles")
    parser.add_argument("--log-events", type=int, default=10_000_000, help="(b) events")
    parser.add_argument("--engines", default="duckdb,sqlite,postgresql", help="(b) engines")
    parser.add_argument("--only", choices=["a", "b"], default=None)
    args = parser.parse_args()
    print(f"{machine()}, {datetime.now(UTC):%Y-%m-%d}")
    if args.only in (None, "a"):
        for backend in args.backends.split(","):
            with (
                tempfile.TemporaryDirectory() as folder,
                fresh_database(backend, Path(folder)) as url,
            ):
                rate, whole = realtime(url, args.events)
            print(
                f"  (a) {backend:10} {args.events:,} events, 50 audiences: {rate:,.0f} events/s"
                f" ({whole:,.0f} with its own membership events consumed too)"
            )
    if args.only in (None, "b"):
        batch(args.engines.split(","), args.profiles, args.log_events)


if __name__ == "__main__":
    main()
