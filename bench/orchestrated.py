"""Calculate a 6-activity canvas on 1,000,000 profiles, 10,000,000 bookings and
10,000 hotels on DuckDB, and the same computation written directly in pandas.

    .venv/bin/python -m bench.orchestrated [--profiles N] [--bookings N] [--hotels N]

The data is generated inside DuckDB (not timed): the profile copy has the
shape of Clarion's tables (profiles with JSON traits, user_id and email
identities, 3% unsubscribed from email, 1% of addresses suppressed), hotels in
three regions, bookings over 500 days. The canvas:

    loyal (profiles with >= 2 bookings in the last 365 days)
      -> by-region (split: Nordic countries | complement)
      -> enrich (spend, stays; then again with the favourite hotel)
      -> vip (split: top 1,000 by spend | complement)
      -> offer (email: eligible after consent and suppression)
      -> done

"Time to exact counts" is what `POST /v1/canvases/{id}/calculate` spends
after the profile copy: compiling the plan, making every work table, counting
every transition and the eligible recipients, and a preview of each set. The
pandas baseline computes the same counts from DataFrames already in memory
(traits pre-extracted into a `country` column, which favours pandas); both
must agree exactly.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.documents import parse_canvas, parse_schema
from clarion.orchestrated.executor import Executor, work_names
from clarion.orchestrated.optimize import optimize
from clarion.orchestrated.planner import build_plan
from clarion.orchestrated.service import counts_of
from clarion.orchestrated.sources.copy import COPIED, column_kind
from clarion.orchestrated.sources.duckdb import COPY_TYPES, DuckDbSource, quoted

WS = "bench-ws"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NORDIC = ["SE", "NO", "DK", "FI"]
COUNTRIES = [*NORDIC, "DE", "FR", "GB", "US"]

SCHEMA = {
    "kind": "schema",
    "entities": [
        {
            "name": "hotels",
            "primary_key": "hotel_id",
            "attributes": {"hotel_id": "string", "name": "string", "region": "string"},
        },
        {
            "name": "bookings",
            "primary_key": "booking_id",
            "attributes": {
                "booking_id": "integer",
                "customer_id": "string",
                "hotel_id": "string",
                "check_in": "date",
                "revenue": "number",
            },
            "links": [
                {"name": "profile", "to": "profiles", "on": "customer_id", "identity": "user_id"},
                {"name": "hotel", "to": "hotels", "on": "hotel_id"},
            ],
        },
    ],
}
CANVAS = {
    "kind": "canvas",
    "name": "bench",
    "activities": [
        {
            "id": "loyal",
            "type": "build_audience",
            "filter": {
                "aggregate": {
                    "link": "bookings",
                    "fn": "count",
                    "where": [
                        {
                            "path": "check_in",
                            "op": "within_last",
                            "value": {"last": 365, "unit": "days"},
                        }
                    ],
                    "op": "gte",
                    "value": 2,
                }
            },
            "next": "by-region",
        },
        {
            "id": "by-region",
            "type": "split",
            "segments": [
                {
                    "id": "nordic",
                    "filter": {"trait": {"path": "country", "op": "in", "value": NORDIC}},
                    "next": "enrich",
                }
            ],
        },
        {
            "id": "enrich",
            "type": "enrich",
            "columns": [
                {
                    "name": "spend",
                    "aggregate": {"link": "bookings", "fn": "sum", "path": "revenue"},
                },
                {"name": "stays", "aggregate": {"link": "bookings", "fn": "count"}},
            ],
            "next": "vip",
        },
        {
            "id": "vip",
            "type": "split",
            "segments": [
                {
                    "id": "top",
                    "limit": {"count": 1000},
                    "order_by": [{"path": "spend", "direction": "desc"}],
                    "next": "offer",
                }
            ],
        },
        {"id": "offer", "type": "email", "template": "vip", "next": "done"},
        {"id": "done", "type": "end"},
    ],
}


FAVOURITE = {"name": "favourite", "top": {"link": "bookings", "path": "hotel_id"}}


def with_favourite(canvas: dict[str, Any]) -> dict[str, Any]:
    """The canvas whose enrichment also finds each guest's favourite hotel (top value)."""
    activities = [
        {**a, "columns": [FAVOURITE, *a["columns"]]} if a["id"] == "enrich" else a
        for a in canvas["activities"]
    ]
    return {**canvas, "activities": activities}


def generate(source: DuckDbSource, profiles: int, bookings: int, hotels: int) -> None:
    """The profile copy and the entities, made by DuckDB itself."""
    for table in COPIED:
        kinds = [(c.name, COPY_TYPES[column_kind(c.type)]) for c in table.columns]
        body = ", ".join(f"{quoted(n)} {t}" for n, t in kinds)
        source.execute(f"CREATE OR REPLACE TABLE {quoted(table.name)} ({body})", {})
    countries = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    ts = "TIMESTAMP '2026-01-01 00:00:00'"
    source.execute(
        f"""INSERT INTO profiles SELECT 'p' || i, '{WS}',
        json_object('country', {countries}[CAST(1 + hash(i, 'c') % 8 AS BIGINT)],
                    'first_name', 'G' || i),
        '{{}}', NULL, NULL, false, {ts}, {ts} FROM range({profiles}) t(i)""",
        {},
    )
    source.execute(
        f"""INSERT INTO identities SELECT '{WS}', 'user_id', 'u' || i, 'p' || i, {ts}
        FROM range({profiles}) t(i)""",
        {},
    )
    source.execute(
        f"""INSERT INTO identities SELECT '{WS}', 'email', 'g' || i || '@example.com', 'p' || i,
        {ts} FROM range({profiles}) t(i) WHERE hash(i, 'e') % 20 <> 0""",
        {},
    )
    source.execute(
        f"""INSERT INTO subscriptions SELECT '{WS}', 'p' || i, 'email', '', 'unsubscribed', 'api',
        {ts} FROM range({profiles}) t(i) WHERE hash(i, 'u') % 33 = 0""",
        {},
    )
    source.execute(
        f"""INSERT INTO suppressions SELECT '{WS}', 'email', sha256('g' || i || '@example.com'),
        NULL, 'hard_bounce', {ts} FROM range({profiles}) t(i) WHERE hash(i, 's') % 100 = 0""",
        {},
    )
    regions = "['Nordics', 'Central', 'West']"
    source.execute(
        f"""CREATE OR REPLACE TABLE hotels AS SELECT 'h' || i AS hotel_id, 'Hotel ' || i AS name,
        {regions}[CAST(1 + i % 3 AS BIGINT)] AS region FROM range({hotels}) t(i)""",
        {},
    )
    source.execute(
        f"""CREATE OR REPLACE TABLE bookings AS SELECT i AS booking_id,
        'u' || (hash(i, 'c') % {int(profiles * 1.02)}) AS customer_id,
        'h' || (hash(i, 'h') % {hotels}) AS hotel_id,
        DATE '{NOW.date()}' - CAST(hash(i, 'd') % 500 AS INTEGER) + 30 AS check_in,
        CAST(50 + hash(i, 'r') % 950 AS DOUBLE) AS revenue FROM range({bookings}) t(i)""",
        {},
    )


def calculate(
    source: DuckDbSource, canvas: dict[str, Any]
) -> tuple[dict[str, int], dict[str, int], float]:
    """The canvas calculated as the API does it (after the profile copy)."""
    started = time.perf_counter()
    schema, _ = parse_schema(SCHEMA)
    spec, problems = parse_canvas(canvas)
    assert schema is not None and spec is not None, problems
    catalog = Catalog(schema)
    plan, problems = build_plan(spec, catalog)
    assert plan is not None, problems
    plan = optimize(plan)
    now_us = int((NOW - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6)
    executor = Executor(source, catalog, plan, WS, now_us, work_names("bench", plan))
    executor.materialize()
    flows, eligible = counts_of(plan, executor.count_all())
    executor.previews(list(flows))
    return flows, eligible, time.perf_counter() - started


def frames(source: DuckDbSource) -> dict[str, pd.DataFrame]:
    """The same tables as DataFrames (not timed); traits pre-extracted."""
    con = source.con
    return {
        "profiles": con.execute(
            "SELECT id, json_extract_string(traits, '$.country') AS country FROM profiles"
        ).df(),
        "identities": con.execute("SELECT namespace, value, profile_id FROM identities").df(),
        "subscriptions": con.execute(
            "SELECT profile_id FROM subscriptions WHERE channel = 'email' AND \"group\" = ''"
            " AND status = 'unsubscribed'"
        ).df(),
        "suppressions": con.execute(
            "SELECT address_hash FROM suppressions WHERE channel IN ('email', '*')"
        ).df(),
        "bookings": con.execute(
            "SELECT customer_id, hotel_id, check_in, revenue FROM bookings"
        ).df(),
    }


def pandas_counts(
    f: dict[str, pd.DataFrame], favourite: bool
) -> tuple[dict[str, int], dict[str, int], float]:
    """The same counts, written directly in pandas."""
    started = time.perf_counter()
    ids = f["identities"]
    users = ids[ids.namespace == "user_id"][["value", "profile_id"]]
    b = f["bookings"].merge(users, left_on="customer_id", right_on="value")
    day = pd.Timestamp(NOW.date())
    check_in = pd.to_datetime(b.check_in)
    recent = b[(check_in > day - timedelta(days=365)) & (check_in <= day)]
    per = recent.groupby("profile_id").size()
    loyal = per[per >= 2].index
    profiles = f["profiles"]
    loyal_p = profiles[profiles.id.isin(loyal)]
    nordic = loyal_p[loyal_p.country.isin(NORDIC)]
    mine = b[b.profile_id.isin(nordic.id)]
    spend = mine.groupby("profile_id").revenue.sum()
    enriched = nordic[["id"]].assign(spend=nordic.id.map(spend).fillna(0.0))
    enriched = enriched.assign(stays=nordic.id.map(mine.groupby("profile_id").size()).fillna(0))
    if favourite:  # the most frequent hotel, ties by hotel id
        pairs = mine.groupby(["profile_id", "hotel_id"]).size().reset_index(name="n")
        pairs = pairs.sort_values(["profile_id", "n", "hotel_id"], ascending=[True, False, True])
        top_hotel = pairs.drop_duplicates("profile_id").set_index("profile_id").hotel_id
        enriched = enriched.assign(favourite=enriched.id.map(top_hotel))
    top = enriched.sort_values(["spend", "id"], ascending=[False, True]).head(1000)
    emails = ids[ids.namespace == "email"].groupby("profile_id").value.min()
    address = top.id.map(emails)
    hashed = address.dropna().map(lambda a: hashlib.sha256(a.strip().lower().encode()).hexdigest())
    suppressed = set(f["suppressions"].address_hash)
    unsubscribed = set(f["subscriptions"].profile_id)
    ok = [
        pid
        for pid, h in zip(top.id[address.notna()], hashed, strict=True)
        if "@" in emails[pid] and h not in suppressed and pid not in unsubscribed
    ]
    flows = {
        "loyal": len(loyal_p),
        "by-region": len(loyal_p),
        "by-region.nordic": len(nordic),
        "by-region.complement": len(loyal_p) - len(nordic),
        "enrich": len(enriched),
        "vip": len(enriched),
        "vip.top": len(top),
        "vip.complement": len(enriched) - len(top),
        "offer": len(top),
    }
    return flows, {"offer": len(ok)}, time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--bookings", type=int, default=10_000_000)
    parser.add_argument("--hotels", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    source = DuckDbSource(None)
    started = time.perf_counter()
    generate(source, args.profiles, args.bookings, args.hotels)
    print(f"generated in {time.perf_counter() - started:.1f} s")
    data = frames(source)
    found: dict[str, Any] = {}
    for label, canvas, favourite in (
        ("6-activity canvas", CANVAS, False),
        ("with the favourite hotel (top value over every booking)", with_favourite(CANVAS), True),
    ):
        times = []
        for _ in range(args.runs):
            flows, eligible, seconds = calculate(source, canvas)
            times.append(round(seconds, 2))
        p_flows, p_eligible, p_seconds = pandas_counts(data, favourite)
        assert p_flows == flows, (p_flows, flows)
        assert p_eligible == eligible, (p_eligible, eligible)
        print(f"{label}: DuckDB {min(times):.2f} s (best of {args.runs}: {times})")
        print(f"  pandas {p_seconds:.2f} s = {p_seconds / min(times):.1f}x; counts agree exactly")
        print(f"  counts {flows} eligible {eligible}")
        found[label] = {"duckdb_s": min(times), "pandas_s": p_seconds}
    return found


if __name__ == "__main__":
    main()
