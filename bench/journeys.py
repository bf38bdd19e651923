"""Journey benchmarks.

    .venv/bin/python -m bench.journeys [--events 20000] [--backends sqlite,postgresql]
        [--latency-seconds 10] [--waiting 1000000]

(a) Throughput: N profiles each perform the entry event of a 5-node journey
    (condition -> message -> wait -> reaction -> end); the identity stage runs
    first, then the journey consumer is timed alone: events/s with durable state
    (instances, timers, outbox intents, statistics, journey events), per backend.
(b) Latency: `clarion serve` (embedded, SQLite) receives entry events over HTTP at
    a steady 1,000 events/s; each enters a journey whose first node is a message.
    Latency = the intent's creation time minus the time the client sent the event.
    `--split` measures the scaled-out mode too: `clarion serve` with
    CLARION_WORKERS=false (HTTP only) and one `clarion worker` process.
(c) Memory: W profiles waiting in a journey (rows written directly), then
    `clarion worker` runs over them while new events flow: its peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from bench._server import create_workspace, fresh_database, machine, peak_rss_mb, serve
from clarion.api.app import open_database
from clarion.api.runtime import builtin_kinds
from clarion.clock import SystemClock, to_micros
from clarion.documents import KindRegistry, apply_documents
from clarion.ids import new_id
from clarion.journeys import lifecycle
from clarion.journeys.consumer import JourneyConsumer
from clarion.model.events import NewEvent
from clarion.processing.consumers import drain
from clarion.processing.heap import settle_heap
from clarion.profiles import IdentityStage
from clarion.storage.schema import journey_instances, journey_timers, outbox
from clarion.storage.sql import SqlDatabase

TEMPLATE = {
    "kind": "template",
    "name": "hi",
    "channel": "in_app",
    "payload": {"title": "Hi {{ profile.first_name }}"},
}
JOURNEY = {
    "kind": "journey",
    "name": "five",
    "entry": {"type": "event", "event": "Tick"},
    "reentrance": {"mode": "always"},
    "nodes": [
        {
            "id": "check",
            "type": "condition",
            "otherwise": "send",
            "branches": [
                {"when": {"trait": {"path": "vip", "op": "eq", "value": True}}, "next": "send"}
            ],
        },
        {"id": "send", "type": "message", "channel": "in_app", "template": "hi", "next": "pause"},
        {"id": "pause", "type": "wait", "duration": "1h", "next": "react"},
        {
            "id": "react",
            "type": "reaction",
            "events": [{"event": "Bought", "next": "done"}],
            "timeout": "1d",
            "timeout_next": "done",
        },
        {"id": "done", "type": "end"},
    ],
}


def setup(db: SqlDatabase, workspace: str) -> None:
    clock = SystemClock()
    with db.write() as tx:
        apply_documents(
            tx, KindRegistry(builtin_kinds()), workspace, [TEMPLATE, JOURNEY], clock.now()
        )
        lifecycle.publish(tx, workspace, "five", clock.now())


def throughput(db_url: str, events: int) -> float:
    db = SqlDatabase.from_url(db_url)
    workspace = create_workspace(db_url)["id"]
    setup(db, workspace)
    clock = SystemClock()
    for start in range(0, events, 1000):
        with db.write() as tx:
            tx.events.append(
                workspace,
                [
                    NewEvent(
                        type="track",
                        message_id=f"t-{n}",
                        event="Tick",
                        user_id=f"u-{n}",
                        properties={"n": n},
                        origin="secret_key",
                    )
                    for n in range(start, min(events, start + 1000))
                ],
                clock.now(),
            )
    drain(db, clock, [IdentityStage(clock)], limit=2000)
    consumer = JourneyConsumer(clock)
    settle_heap()  # as `clarion worker` and `clarion serve` do once started
    started = time.perf_counter()
    drain(db, clock, [consumer], limit=1000)
    seconds = time.perf_counter() - started
    assert consumer.messages_queued == events, consumer.messages_queued
    db.close()
    return events / seconds


async def paced(url: str, write_key: str, rate: int, seconds: float) -> int:
    sent = 0
    interval = 1 / 100  # a batch of rate/100 events every 10 ms
    per_tick = max(1, rate // 100)
    async with httpx.AsyncClient(base_url=url, auth=(write_key, ""), timeout=30) as http:
        start = time.perf_counter()
        tick = 0
        pending: set[asyncio.Task[Any]] = set()
        while time.perf_counter() - start < seconds:
            batch = [
                {
                    "type": "track",
                    "userId": f"lat-{sent + i}",
                    "event": "Tick",
                    "properties": {"sent_us": to_micros(SystemClock().now())},
                }
                for i in range(per_tick)
            ]
            task = asyncio.create_task(
                http.post(
                    "/v1/batch",
                    content=orjson.dumps({"batch": batch}),
                    headers={"Content-Type": "application/json"},
                )
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += per_tick
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * interval - time.perf_counter()))
        await asyncio.gather(*pending)
    return sent


@contextmanager
def worker(db_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """A `clarion worker` process, once it has started its loops."""
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion.cli", "worker", "--db", db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        if b"Clarion worker" not in process.stdout.readline():  # printed once started
            raise RuntimeError("clarion worker did not start")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


@dataclass
class Latency:
    """What part (b) measured."""

    p50_ms: float
    p99_ms: float
    intents: int
    sent: int
    cpu_ms_per_event: float
    """CPU time of the Clarion processes (serve, and worker) per event sent, idle time
    included: a figure less at the mercy of a shared machine than wall time."""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(folder: Path, seconds: float, split: bool = False) -> Latency:
    """p50 and p99 from sending an entry event to its intent in the outbox; with `split`,
    the API runs without workers and a `clarion worker` process runs the journeys."""
    with fresh_database("sqlite", folder) as db_url:
        ws = create_workspace(db_url)
        db = open_database(db_url)
        setup(db, ws["id"])
        with (
            serve(db_url, workers=not split) as (url, api),
            worker(db_url) if split else nullcontext() as separate,
        ):
            pids = [api.pid] + ([separate.pid] if separate is not None else [])
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            sent = asyncio.run(paced(url, ws["write_key"], 1000, seconds))
            deadline = time.monotonic() + 120
            while True:
                with db.read() as tx:
                    rows = tx.conn.execute(select(outbox.c.created_at, outbox.c.context)).all()
                if len(rows) >= sent or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
        db.close()
    delays = sorted(
        (to_micros(created) - ctx["entry"]["properties"]["sent_us"]) / 1000 for created, ctx in rows
    )
    p99 = delays[int(len(delays) * 0.99) - 1]
    return Latency(statistics.median(delays), p99, len(delays), sent, cpu * 1000 / sent)


def memory(folder: Path, waiting: int) -> tuple[float, float]:
    with fresh_database("sqlite", folder) as db_url:
        ws = create_workspace(db_url)["id"]
        db = open_database(db_url)
        setup(db, ws)
        now = to_micros(SystemClock().now())
        with db.read() as tx:
            doc = tx.documents.get(ws, "journey", "five")
        assert doc is not None
        started = time.perf_counter()
        for start in range(0, waiting, 20_000):
            rows, timers = [], []
            for n in range(start, min(waiting, start + 20_000)):
                iid = new_id()
                state = {
                    "id": iid,
                    "workspace_id": ws,
                    "journey_id": doc.id,
                    "journey": "five",
                    "version": 1,
                    "profile_id": f"p-{n}",
                    "entered_us": now,
                    "deadline_us": now + 86_400_000_000 * 90,
                    "node": "pause",
                    "status": "waiting",
                    "context": {},
                    "visits": {"pause": 1},
                    "sent": {},
                    "history": [],
                    "waiting": {
                        "kind": "timer",
                        "node": "pause",
                        "key": "pause:0",
                        "due_us": now + 3_600_000_000 * 24,
                        "events": [],
                    },
                    "exit_reason": None,
                }
                rows.append(
                    {
                        "id": iid,
                        "workspace_id": ws,
                        "journey": "five",
                        "version": 1,
                        "profile_id": f"p-{n}",
                        "status": "waiting",
                        "node": "pause",
                        "state": state,
                        "entered_at": now,
                        "updated_at": now,
                    }
                )
                timers.append(
                    {
                        "instance_id": iid,
                        "key": "pause:0",
                        "workspace_id": ws,
                        "profile_id": f"p-{n}",
                        "due_at": now + 3_600_000_000 * 24,
                        "kind": "timer",
                        "payload": None,
                        "attempts": 0,
                    }
                )
            with db.write() as tx:
                tx.conn.execute(journey_instances.insert(), rows)
                tx.conn.execute(journey_timers.insert(), timers)
        load = time.perf_counter() - started
        db.close()
        env = {**os.environ, "CLARION_DATABASE_URL": db_url}
        process = subprocess.Popen(
            [sys.executable, "-m", "clarion.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            db = SqlDatabase.from_url(db_url)
            for start in range(0, 20_000, 1000):
                with db.write() as tx:
                    tx.events.append(
                        ws,
                        [
                            NewEvent(
                                type="track", message_id=f"m-{n}", event="Tick", user_id=f"new-{n}"
                            )
                            for n in range(start, start + 1000)
                        ],
                        SystemClock().now(),
                    )
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                with db.read() as tx:
                    position = tx.events.position("journeys")
                if position[1] >= 20_000:
                    break
                time.sleep(0.5)
            rss = peak_rss_mb(process.pid)
            db.close()
        finally:
            process.terminate()
            process.wait(timeout=60)
    return rss, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--waiting", type=int, default=1_000_000)
    parser.add_argument("--only", default="a,b,c")
    parser.add_argument(
        "--split",
        choices=("no", "yes", "both"),
        default="both",
        help="(b) with workers embedded in `clarion serve` (no), in a `clarion worker` (yes)",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        if "a" in args.only:
            for backend in args.backends.split(","):
                with fresh_database(backend, Path(folder)) as db_url:
                    SqlDatabase.from_url(db_url).close()
                    open_database(db_url).close()
                    rate = throughput(db_url, args.events)
                print(
                    f"(a) {backend}: {args.events} entry events through the 5-node journey: "
                    f"{rate:,.0f} events/s"
                )
        modes = {"no": [False], "yes": [True], "both": [False, True]}[args.split]
        for split in modes if "b" in args.only else []:
            got = latency(Path(folder), args.latency_seconds, split)
            where = "serve + worker processes" if split else "serve, workers embedded"
            print(
                f"(b) {where}: 1,000 events/s for {args.latency_seconds:.0f} s ({got.intents} "
                f"intents of {got.sent} events within 2 minutes of the last; percentiles of "
                f"those): event sent -> intent written p50 {got.p50_ms:.1f} ms, p99 "
                f"{got.p99_ms:.1f} ms; Clarion CPU {got.cpu_ms_per_event:.2f} ms per event"
            )
        if "c" in args.only:
            rss, load = memory(Path(folder), args.waiting)
            print(
                f"(c) {args.waiting:,} profiles waiting (rows written in {load:.0f} s); "
                f"worker peak RSS while 20,000 new events flow: {rss:.0f} MB"
            )


if __name__ == "__main__":
    main()
