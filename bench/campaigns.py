"""Campaign benchmarks (issue 8).

    .venv/bin/python -m bench.campaigns [--recipients 1000000] [--action-dispatchers N]
    .venv/bin/python -m bench.campaigns --only api [--mode embedded|scaled|both] [--dispatchers N]
        [--connections 16] [--seconds 10] [--rates 1000] [--db sqlite|postgresql]
        [--nice -10]

(a) an action campaign of N personalised marketing emails, end to end into the
    capture provider: the audience snapshot (SQL), the run queueing recipients in
    bulk and the dispatcher (every pipeline stage, Liquid rendering, tracked links)
    running at the same time, as in `clarion serve`; total time, messages/s and
    the process's peak memory;
(b) an API-triggered transactional campaign on SQLite (or PostgreSQL), behind `clarion serve`
    with its workers (`--mode embedded`), or behind `clarion serve` serving only
    the API (CLARION_WORKERS=false) next to one `clarion worker` process
    (`--mode scaled`). A load generator in its own process sends one-recipient
    trigger calls as raw keep-alive HTTP/1.1 on loopback: first a closed loop
    (each client sends its next call when the last was answered), then open loops
    at fixed rates, where latency counts from when a call was due (no coordinated
    omission). It prints calls/s, p50/p90/p99 from sending (or being due) to the
    provider call (the capture provider's time stamp), the answer's own latency,
    the server's CPU per call (both processes in scaled mode, until every message
    was delivered) and the load average at the end of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from math import nan as NAN
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from bench._loadgen import generate, run_generator
from bench._server import create_workspace, fresh_database, machine, peak_rss_mb, serve
from bench.surfaces import cpu_seconds
from clarion.api.app import open_database
from clarion.campaigns import RunWorker, activate, find_campaign
from clarion.clock import SystemClock, to_micros
from clarion.delivery import Dispatcher, ProviderRegistry
from clarion.delivery.templates import TemplateStore
from clarion.ids import new_id
from clarion.model.profiles import ProfileRecord
from clarion.processing.heap import settle_heap
from clarion.storage.schema import campaign_runs, captured_messages, outbox
from clarion.storage.sql import SqlDatabase
from clarion.workspaces import create_workspace as new_workspace

HTML = (
    """<html><body><table width="600"><tr><td>
<h1>Hi {{ profile.first_name | default: 'there' }},</h1>
<p>December at {{ context.shop }}: {{ context.items | size }} picks for a {{ profile.tier }}
member with {{ profile.points }} points.</p>
<ul>{% for item in context.items %}<li>{{ item.name }} - {{ item.price }} SEK</li>{% endfor %}</ul>
<p><a href="https://shop.example/december?u={{ profile.id }}">See them all</a></p>
<p>"""
    + "Lorem ipsum dolor sit amet, consectetur adipiscing. " * 20
    + """</p>
<p><a href="{{ message.unsubscribe_url }}">Unsubscribe</a></p></td></tr></table></body></html>"""
)

TEMPLATE = {
    "kind": "template",
    "name": "december",
    "channel": "email",
    "from": "Shop <news@example.com>",
    "subject": "{{ profile.first_name }}, our December news",
    "html": HTML,
}
CONTEXT = {
    "shop": "Acme",
    "items": [
        {"name": "Lamp", "price": 499},
        {"name": "Rug", "price": 1299},
        {"name": "Mug", "price": 99},
    ],
}


def add_subscribers(db: SqlDatabase, workspace: str, count: int) -> None:
    now = SystemClock().now()
    for start in range(0, count, 20_000):
        with db.write() as tx:
            records = [
                ProfileRecord(
                    new_id(),
                    workspace,
                    {"first_name": f"Name{n}", "tier": "gold", "points": n, "newsletter": True},
                    {},
                    now,
                    now,
                )
                for n in range(start, min(count, start + 20_000))
            ]
            tx.profiles.insert(records)
            tx.profiles.assign(
                workspace,
                [(("email", f"user{start + i}@example.com"), r.id) for i, r in enumerate(records)],
                now,
            )


def define_campaign(db: SqlDatabase, clock: SystemClock, workspace: str) -> None:
    """The template, the audience of every subscriber and the `december` campaign."""
    now = clock.now()
    with db.write() as tx:
        tx.documents.put(workspace, "template", "december", TEMPLATE, now)
        tx.documents.put(
            workspace,
            "audience",
            "subscribers",
            {
                "kind": "audience",
                "name": "subscribers",
                "definition": {"trait": {"path": "newsletter", "op": "eq", "value": True}},
            },
            now,
        )
        tx.documents.put(
            workspace,
            "campaign",
            "december",
            {
                "kind": "campaign",
                "name": "december",
                "audience": "subscribers",
                "template": "december",
                "context": CONTEXT,
            },
            now,
        )


def run_queued(db: SqlDatabase) -> bool:
    """Whether the campaign run has queued every recipient (snapshot taken, queueing done)."""
    with db.read() as tx:
        status = tx.conn.execute(select(campaign_runs.c.status)).scalar_one_or_none()
    return status not in (None, "pending", "snapshotting", "sending")


def _dispatcher(db: SqlDatabase, clock: SystemClock) -> Dispatcher:
    return Dispatcher(
        db,
        clock,
        ProviderRegistry(db, clock),
        TemplateStore(),
        public_url="http://127.0.0.1:8000",
    )


async def _dispatch_run(dispatcher: Dispatcher, queued: Any) -> None:
    """Dispatch until the run has queued everyone and nothing is left to send."""
    db = dispatcher.db
    try:
        while True:
            stats = await dispatcher.run_once()
            if stats.claimed == 0 and queued():
                with db.read() as tx:
                    left = tx.conn.execute(
                        select(func.count())
                        .select_from(outbox)
                        .where(outbox.c.status.in_(("pending", "sending")))
                    ).scalar_one()
                if not left:
                    return
            elif stats.claimed == 0:
                await asyncio.sleep(0.01)
    finally:
        await dispatcher.providers.close()


def _dispatch_process(url: str) -> float:
    """One dispatcher process (as `clarion worker --dispatchers N` runs them); its CPU s."""
    db = open_database(url)
    settle_heap()
    cpu = time.process_time()
    asyncio.run(_dispatch_run(_dispatcher(db, SystemClock()), lambda: run_queued(db)))
    db.close()
    return time.process_time() - cpu


def action_campaign(recipients: int, folder: Path, processes: int = 0) -> dict[str, float]:
    """With `processes` 0, the run and one dispatcher share this process, as in `clarion
    serve`; otherwise this process runs the campaign and `processes` others dispatch, as
    `clarion worker --dispatchers N` does."""
    url = f"sqlite:///{folder / 'action.db'}"
    db = open_database(url)
    clock = SystemClock()
    workspace = new_workspace(db, clock, "bench").workspace.id
    started = time.perf_counter()
    add_subscribers(db, workspace, recipients)
    setup = time.perf_counter() - started
    define_campaign(db, clock, workspace)
    worker = RunWorker(db, clock)
    marks: dict[str, float] = {}

    def run_campaign() -> None:
        while True:
            stats = worker.step()
            if stats.snapshots and "snapshot" not in marks:
                marks["snapshot"] = time.perf_counter()
            if run_queued(db):
                marks["queued"] = time.perf_counter()
                return

    pool = None
    if processes:  # started (interpreter, imports) before the clock runs
        pool = ProcessPoolExecutor(processes, get_context("spawn"))
        list(pool.map(abs, range(processes)))
    started = time.perf_counter()
    with db.write() as tx:
        activate(tx, find_campaign(tx, workspace, "december"), clock.now())
    runner = threading.Thread(target=run_campaign)
    runner.start()
    if pool is not None:
        with pool:
            dispatch_cpu = sum(pool.map(_dispatch_process, [url] * processes))
        runner.join()
    else:
        asyncio.run(_dispatch_run(_dispatcher(db, clock), lambda: not runner.is_alive()))
    total = time.perf_counter() - started
    with db.read() as tx:
        sent = tx.conn.execute(select(func.count()).select_from(captured_messages)).scalar_one()
    db.close()
    result = {
        "recipients": recipients,
        "dispatcher_processes": processes,
        "sent": sent,
        "setup_s": setup,
        "snapshot_s": marks["snapshot"] - started,
        "queue_rate": recipients / (marks["queued"] - started),
        "total_s": total,
        "rate": sent / total,
        "peak_rss_mb": peak_rss_mb(os.getpid()),
    }
    if pool is not None:
        result["dispatcher_cpu_us_per_message"] = dispatch_cpu / max(1, sent) * 1e6
    return result


TRIGGER_PATH = "/v1/campaigns/order-confirmation/trigger"
TRIGGER_TEMPLATE = {
    "kind": "template",
    "name": "order-confirmation",
    "channel": "email",
    "from": "Shop <shop@example.com>",
    "subject": "Order {{ context.order.id }}",
    "text": "Thanks for order {{ context.order.id }} ({{ context.order.total }} SEK) "
    "at {{ context.shop }}.",
}
TRIGGER_CAMPAIGN = {
    "kind": "campaign",
    "name": "order-confirmation",
    "type": "api",
    "category": "transactional",
    "template": "order-confirmation",
}


@dataclass
class TriggerLoad:
    """One run of the trigger load generator."""

    port: int
    key: str
    prefix: str
    """Makes this run's request ids and buyers its own."""
    connections: int
    seconds: float
    rate: float | None
    """Requests per second on a fixed schedule (open loop); None: closed loop."""
    nice: int = 0
    """Scheduling priority of the generator (the server's is set by `api_campaign`)."""


def _trigger_request(load: TriggerLoad, n: int) -> bytes:
    body = orjson.dumps(
        {
            "requestId": f"{load.prefix}-{n}",
            "recipients": [
                {
                    "email": f"buyer-{load.prefix}-{n}@example.com",
                    "context": {"order": {"id": str(n), "total": n % 500}},
                }
            ],
            "context": {"shop": "Acme"},
        }
    )
    head = (
        f"POST {TRIGGER_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {load.key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _generate_triggers(load: TriggerLoad) -> dict[str, Any]:
    """Raw keep-alive HTTP/1.1 on loopback; per message id, when its call was sent (or due,
    in an open loop), on the wall clock the capture provider stamps with."""
    due_at: dict[str, float] = {}
    wall = time.time() - time.perf_counter()  # perf_counter -> wall clock

    def answer(head: bytes, body: bytes, sent_at: float) -> str | None:
        if not head.startswith(b"HTTP/1.1 202"):
            status = head.split(b"\r\n", 1)[0].decode()
            return f"{status} {body[:200]!r}"
        due_at[orjson.loads(body)["recipients"][0]["message_id"]] = wall + sent_at
        return None

    result = await generate(
        load.port,
        load.connections,
        load.seconds,
        load.rate,
        lambda n: _trigger_request(load, n),
        answer,
    )
    return {**result, "due_at": due_at, "answered": result.pop("latencies")}


def _trigger_process(load: TriggerLoad, out: Any) -> None:
    run_generator(_generate_triggers(load), out, load.nice)


def _delivered(db_url: str, wanted: dict[str, float], deadline_s: float = 120) -> dict[str, int]:
    """Capture stamps (µs) of the wanted messages, once all are there (or at the deadline)."""
    db = open_database(db_url, migrate=False)
    found: dict[str, int] = {}
    ids = list(wanted)
    deadline = time.monotonic() + deadline_s
    try:
        while True:
            for start in range(0, len(ids), 500):
                chunk = [i for i in ids[start : start + 500] if i not in found]
                if not chunk:
                    continue
                with db.read() as tx:
                    rows = tx.conn.execute(
                        select(captured_messages.c.id, captured_messages.c.created_at).where(
                            captured_messages.c.id.in_(chunk)
                        )
                    ).all()
                found.update((mid, to_micros(at)) for mid, at in rows)
            if len(found) >= len(ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
    finally:
        db.close()


def run_triggers(load: TriggerLoad, db_url: str, pids: list[int]) -> dict[str, Any]:
    """Run the generator in its own process; latencies to the provider call, server CPU."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_trigger_process, args=(load, send)
    )
    cpu_before = [cpu_seconds(pid) for pid in pids]
    process.start()
    result: dict[str, Any] = receive.recv()
    process.join()
    stamps = _delivered(db_url, result["due_at"])
    result["cpu_each"] = [cpu_seconds(p) - b for p, b in zip(pids, cpu_before, strict=True)]
    result["server_cpu"] = sum(result["cpu_each"])
    result["latencies"] = sorted(
        stamps[mid] / 1e6 - at for mid, at in result["due_at"].items() if mid in stamps
    )
    result["load"] = os.getloadavg()
    return result


def trigger_summary(name: str, result: dict[str, Any]) -> str:
    """One line: requests/s, latency to the provider call, answer latency, CPU."""
    latencies, answered = result["latencies"], sorted(result["answered"])
    count, elapsed = len(answered), result["elapsed"]

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else NAN

    line = (
        f"{name}: {count:,} calls in {elapsed:.1f} s = {count / elapsed:,.0f}/s; "
        f"to the provider call p50 {pct(latencies, 0.5):.1f} ms, p90 {pct(latencies, 0.9):.1f} "
        f"ms, p99 {pct(latencies, 0.99):.1f} ms, max {pct(latencies, 1):.1f} ms "
        f"({len(latencies):,} delivered); answer p50 {pct(answered, 0.5):.1f} ms, p99 "
        f"{pct(answered, 0.99):.1f} ms; server CPU {result['server_cpu'] / elapsed:.0%} "
        f"= {result['server_cpu'] / max(count, 1) * 1000:.2f} ms/call"
        + (
            " ("
            + " + ".join(
                f"{role} {c / max(count, 1) * 1000:.2f}"
                for role, c in zip(
                    ["API", "worker", *["dispatcher"] * len(result["cpu_each"])],
                    result["cpu_each"],
                    strict=False,
                )
            )
            + ")"
            if len(result["cpu_each"]) > 1
            else ""
        )
        + ", generator CPU "
        f"{result['cpu'] / elapsed:.0%}; load average "
        + "/".join(f"{v:.2f}" for v in result["load"])
    )
    if result["error_count"]:
        line += f"; {result['error_count']} errors, e.g. {result['errors']}"
    return line


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def trigger_server(db_url: str, mode: str, dispatchers: int = 1) -> Iterator[tuple[str, list[int]]]:
    """`clarion serve` with its workers (embedded), or serving only the API next to one
    `clarion worker --dispatchers N` (scaled); the URL and the pids whose CPU counts
    (API, worker, then the worker's extra dispatcher processes)."""
    if mode == "embedded":
        with serve(db_url) as (url, process):
            yield url, [process.pid]
        return
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clarion.cli",
            "worker",
            "--db",
            db_url,
            "--dispatchers",
            str(dispatchers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with serve(db_url, workers=False) as (url, process):
            deadline = time.monotonic() + 30
            extra = _children(worker.pid)
            while len(extra) < dispatchers - 1 and time.monotonic() < deadline:
                time.sleep(0.1)
                extra = _children(worker.pid)
            yield url, [process.pid, worker.pid, *extra]
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def api_campaign(
    folder: Path,
    mode: str,
    connections: int,
    seconds: float,
    rates: list[float],
    kind: str,
    nice: int = 0,
    dispatchers: int = 1,
) -> list[str]:
    """Bench (b): closed loop with `connections` clients, then each open-loop rate."""
    with fresh_database(kind, folder) as db_url:
        name = f"{mode}, {kind}" + (f", priority {nice}" if nice else "")
        if mode == "scaled" and dispatchers > 1:
            name += f", {dispatchers} dispatcher processes"
        return _api_campaign(db_url, name, mode, connections, seconds, rates, nice, dispatchers)


def _prioritise(pids: list[int], nice: int) -> None:
    """Every thread of the server processes at priority `nice`."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


def _api_campaign(
    db_url: str,
    name: str,
    mode: str,
    connections: int,
    seconds: float,
    rates: list[float],
    nice: int,
    dispatchers: int = 1,
) -> list[str]:
    key = create_workspace(db_url)["secret_key"]
    lines = []
    with trigger_server(db_url, mode, dispatchers) as (url, pids):
        headers = {"Authorization": f"Bearer {key}"}
        httpx.post(
            f"{url}/v1/apply", json=[TRIGGER_TEMPLATE, TRIGGER_CAMPAIGN], headers=headers
        ).raise_for_status()
        httpx.post(
            f"{url}/v1/campaigns/order-confirmation/activate", headers=headers
        ).raise_for_status()
        port = int(url.rsplit(":", 1)[1])
        run_triggers(TriggerLoad(port, key, "warm", connections, 2, None, nice), db_url, pids)
        if nice:  # after the warm-up: the threads the server starts on demand exist now
            _prioritise(pids, nice)
        closed = TriggerLoad(port, key, "closed", connections, seconds, None, nice)
        lines.append(
            trigger_summary(
                f"{name}, closed loop, {connections} clients", run_triggers(closed, db_url, pids)
            )
        )
        for rate in rates:
            fixed = TriggerLoad(
                port, key, f"open{rate:.0f}", max(connections, 64), seconds, rate, nice
            )
            lines.append(
                trigger_summary(
                    f"{name}, open loop at {rate:,.0f}/s", run_triggers(fixed, db_url, pids)
                )
            )
        lines.append(f"server peak RSS {peak_rss_mb(pids[0]):.0f} MB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["action", "api"])
    parser.add_argument("--connections", type=int, default=16, help="(b) closed-loop clients")
    parser.add_argument("--seconds", type=float, default=10, help="(b) length of each run")
    parser.add_argument(
        "--rates", default="", help="(b) open-loop rates after the closed loop, e.g. 1000"
    )
    parser.add_argument(
        "--mode",
        choices=["embedded", "scaled", "both"],
        default="embedded",
        help="(b) `clarion serve` with workers (embedded), or API only plus one "
        "`clarion worker` (scaled)",
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="(b) a fresh database of this kind (PostgreSQL: a new database on "
        "CLARION_BENCH_PG, dropped afterwards)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="(b) scheduling priority of the server processes and the generator (e.g. -10 "
        "as root, so that other work on a shared machine does not decide the figure)",
    )
    parser.add_argument(
        "--dispatchers",
        type=int,
        default=1,
        help="(b) scaled mode: `clarion worker --dispatchers N` (N dispatcher processes)",
    )
    parser.add_argument(
        "--action-dispatchers",
        type=int,
        default=0,
        help="(a) 0: the run and one dispatcher share one process (`clarion serve`); "
        "N: N dispatcher processes beside the run (`clarion worker --dispatchers N`)",
    )
    args = parser.parse_args()
    print(machine())
    rates = [float(r) for r in args.rates.split(",") if r]
    modes = ["embedded", "scaled"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "api"):
            for mode in modes:
                lines = api_campaign(
                    Path(folder),
                    mode,
                    args.connections,
                    args.seconds,
                    rates,
                    args.db,
                    args.nice,
                    args.dispatchers,
                )
                for line in lines:
                    print("(b)", line, flush=True)
        if args.only in (None, "action"):
            result = action_campaign(args.recipients, Path(folder), args.action_dispatchers)
            print("(a) action campaign:", result)


if __name__ == "__main__":
    main()
