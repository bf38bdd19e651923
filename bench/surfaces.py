"""Surface benchmark (issue 10): `GET /v1/surfaces/{surface}` behind `clarion serve`.

    .venv/bin/python -m bench.surfaces [--profiles 100000] [--seconds 15] [--rates 1000,1500,2000]

A fresh SQLite database holds N profiles, each with an anonymous id and two
eligible items (a content card on `cards`, a web experience on `home-hero`).
`clarion serve` (embedded mode, workers on) answers; a load generator in its own
process (raw keep-alive HTTP/1.1 on loopback, the write key, a different
visitor's `anonymous_id` each request) runs

(a) closed loop: C connections, each sending its next request when the last
    answer arrived, for the most requests/s;
(b) open loop at fixed rates (default 1,000, 1,500 and 2,000/s): requests are due on a fixed
    schedule and latency counts from when a request was due (no coordinated
    omission), so p99 includes any queueing;
(c) for scale, `GET /health` in a closed loop: a trivial FastAPI endpoint on the
    same server (uvicorn, middleware, routing, one hop to the thread pool), no
    surface work.

It prints requests/s, p50/p90/p99/max latency, the CPU the server and the
generator used, and checks every answer is a 200 with the visitor's one card.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._loadgen import generate, run_generator
from bench._server import machine, peak_rss_mb, serve
from clarion.api.app import open_database
from clarion.clock import SystemClock, to_micros
from clarion.ids import new_id
from clarion.model.profiles import ProfileRecord
from clarion.surfaces import store
from clarion.workspaces import create_workspace

SURFACE = "cards"


def populate(db_url: str, profiles: int) -> str:
    """N profiles with an anonymous id and two eligible items each; returns the write key."""
    db = open_database(db_url)
    clock = SystemClock()
    now = clock.now()
    created = create_workspace(db, clock, "bench")
    workspace = created.workspace.id
    now_us = to_micros(now)
    chunk = 5_000
    for start in range(0, profiles, chunk):
        records, owners, items = [], [], []
        for n in range(start, min(profiles, start + chunk)):
            record = ProfileRecord(new_id(), workspace, {"first_name": f"P{n}"}, {}, now, now)
            records.append(record)
            owners.append((("anonymous_id", f"anon-{n}"), record.id))
            for surface, channel, content in (
                (SURFACE, "content_card", {"title": f"Hi P{n}", "body": "10% off shoes"}),
                ("home-hero", "web", {"html": f"<b>Welcome back, P{n}</b>"}),
            ):
                items.append(
                    {
                        "id": "msg_" + new_id()[-32:],
                        "workspace_id": workspace,
                        "profile_id": record.id,
                        "channel": channel,
                        "surface": surface,
                        "priority": n % 5,
                        "pinned": False,
                        "content": content,
                        "created_at": now_us,
                        "expires_at": None,
                        "max_impressions": None,
                        "impressions": 0,
                    }
                )
        with db.write() as tx:
            tx.profiles.insert(records)
            tx.profiles.assign(workspace, owners, now)
            store.put_items(tx, items)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.close()
    return created.write_key


def visitor(i: int, profiles: int) -> int:
    """The i-th request's visitor: spread over every profile (a multiplicative hash)."""
    return (i * 2_654_435_761) % profiles


@dataclass
class Load:
    port: int
    write_key: str
    profiles: int
    connections: int
    seconds: float
    rate: float | None
    """Requests per second on a fixed schedule (open loop); None: closed loop."""
    floor: bool = False
    """Ask `GET /health` instead: what the HTTP stack alone costs."""


def _request(load: Load, i: int) -> bytes:
    if load.floor:
        return b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    auth = base64.b64encode(f"{load.write_key}:".encode()).decode()
    return (
        f"GET /v1/surfaces/{SURFACE}?profile=anonymous_id%3Aanon-{visitor(i, load.profiles)} "
        f"HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
        "Origin: https://shop.example\r\n\r\n"
    ).encode()


async def _generate(load: Load) -> dict[str, Any]:
    checked = 0

    def answer(head: bytes, body: bytes, _sent_at: float) -> str | None:
        nonlocal checked
        if not head.startswith(b"HTTP/1.1 200"):
            return head.split(b"\r\n", 1)[0].decode()
        if checked < 200 and not load.floor:  # spot-check the answers
            checked += 1
            if body.count(b'"channel":"content_card"') != 1:
                return f"unexpected body: {body[:200]!r}"
        return None

    return await generate(
        load.port,
        load.connections,
        load.seconds,
        load.rate,
        lambda n: _request(load, n),
        answer,
    )


def _generator_process(load: Load, out: Any, nice: int) -> None:
    run_generator(_generate(load), out, nice)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(load: Load, server_pid: int, nice: int = 0) -> dict[str, Any]:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_generator_process, args=(load, send, nice)
    )
    server_cpu = cpu_seconds(server_pid)
    process.start()
    result: dict[str, Any] = receive.recv()
    process.join()
    result["server_cpu"] = cpu_seconds(server_pid) - server_cpu
    return result


def summary(name: str, result: dict[str, Any]) -> str:
    latencies = sorted(result["latencies"])
    count, elapsed = len(latencies), result["elapsed"]

    def pct(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000

    line = (
        f"{name}: {count:,} requests in {elapsed:.1f} s = {count / elapsed:,.0f}/s; "
        f"p50 {pct(0.50):.1f} ms, p90 {pct(0.90):.1f} ms, p99 {pct(0.99):.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms; mean {statistics.fmean(latencies) * 1000:.1f} ms; "
        f"server CPU {result['server_cpu'] / elapsed:.0%}, generator CPU "
        f"{result['cpu'] / elapsed:.0%}"
    )
    if result["error_count"]:
        line += f"; {result['error_count']} errors, e.g. {result['errors']}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rates", default="1000,1500,2000", help="open-loop rates, per second")
    parser.add_argument("--workers", choices=("on", "off"), default="on")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of the server and the generator (e.g. -10 as root, "
        "so that other work on a shared machine does not decide the figure)",
    )
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'surfaces.db'}"
        started = time.perf_counter()
        write_key = populate(db_url, args.profiles)
        print(
            f"{args.profiles:,} profiles, {2 * args.profiles:,} eligible items "
            f"in {time.perf_counter() - started:.0f} s"
        )
        with serve(db_url, workers=args.workers == "on") as (url, process):
            port = int(url.rsplit(":", 1)[1])
            nice = args.nice
            if nice:
                for task in Path(f"/proc/{process.pid}/task").iterdir():  # every thread
                    os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
                print(f"server and generator at priority {nice}")
            warm = Load(port, write_key, args.profiles, args.connections, 3, None)
            run_load(warm, process.pid, nice)
            closed = Load(port, write_key, args.profiles, args.connections, args.seconds, None)
            print(
                summary(
                    f"closed loop, {args.connections} connections",
                    run_load(closed, process.pid, nice),
                )
            )
            floor = Load(port, write_key, args.profiles, args.connections, 5, None, floor=True)
            print(summary("floor: GET /health, closed loop", run_load(floor, process.pid, nice)))
            connections = max(args.connections, 64)
            for rate in (float(r) for r in args.rates.split(",")):
                fixed = Load(port, write_key, args.profiles, connections, args.seconds, rate)
                print(summary(f"open loop at {rate:,.0f}/s", run_load(fixed, process.pid, nice)))
            print(f"server peak RSS {peak_rss_mb(process.pid):.0f} MB")


if __name__ == "__main__":
    main()
