"""Ingestion benchmark: events/s accepted by `/v1/batch`, and the identity stage behind it.

    .venv/bin/python bench/ingest.py [--events 200000] [--backends sqlite,postgresql]

For each backend: starts `clarion serve` on a fresh database (workers off, so the
HTTP figure is ingestion alone), sends batches of 100 `track` events from
concurrent keep-alive HTTP clients on loopback, and counts events/s from the
first request to the last durable 200. Then it runs the identity stage over the
stored events in this process and reports its events/s. Finally it ingests the
same load again with the server's own consumers running (the embedded mode),
and reports the server's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from bench._server import create_workspace, fresh_database, machine, peak_rss_mb, serve
from clarion.clock import SystemClock
from clarion.processing.consumers import drain
from clarion.profiles import IdentityStage
from clarion.storage.sql import SqlDatabase

BATCH = 100


def bodies(total: int, users: int = 10_000) -> list[bytes]:
    """Pre-encoded batch bodies (so the load generator spends little CPU)."""
    out = []
    for b in range(total // BATCH):
        batch = [
            {
                "type": "track",
                "userId": f"user-{(b * BATCH + i) % users}",
                "event": "Product Viewed",
                "messageId": f"m-{b}-{i}",
                "properties": {"sku": f"SKU-{i}", "price": 19.99, "category": "shoes"},
                "timestamp": "2026-11-28T10:00:00Z",
                "context": {"library": {"name": "bench"}},
            }
            for i in range(BATCH)
        ]
        out.append(orjson.dumps({"batch": batch}))
    return out


async def send_all(url: str, write_key: str, payloads: list[bytes], concurrency: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url,
        auth=(write_key, ""),
        limits=limits,
        timeout=120,
        headers={"Content-Type": "application/json"},
    ) as http:

        async def worker() -> None:
            while not queue.empty():
                payload = queue.get_nowait()
                response = await http.post("/v1/batch", content=payload)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def run(backend: str, total: int, concurrency: int, folder: Path) -> dict[str, float]:
    payloads = bodies(total)
    with fresh_database(backend, folder) as db_url:
        ws = create_workspace(db_url)
        with serve(db_url, workers=False) as (url, _process):
            seconds = asyncio.run(send_all(url, ws["write_key"], payloads, concurrency))
        db = SqlDatabase.from_url(db_url)
        started = time.perf_counter()
        stamped = drain(db, SystemClock(), [IdentityStage(SystemClock())], limit=2000)
        identity_seconds = time.perf_counter() - started
        db.close()
    with fresh_database(backend, folder) as db_url:
        ws = create_workspace(db_url)
        with serve(db_url, workers=True) as (url, process):
            embedded = asyncio.run(send_all(url, ws["write_key"], payloads, concurrency))
            peak = peak_rss_mb(process.pid)
    return {
        "accepted_per_s": total / seconds,
        "identity_per_s": stamped / identity_seconds,
        "embedded_per_s": total / embedded,
        "peak_rss_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"machine: {machine()}; {args.events} events in batches of {BATCH}, "
        f"{args.concurrency} concurrent clients"
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends.split(","):
            result = run(backend, args.events, args.concurrency, Path(folder))
            print(
                f"{backend:10s} accepted {result['accepted_per_s']:>9,.0f} events/s | "
                f"identity stage {result['identity_per_s']:>9,.0f} events/s | "
                f"with consumers running {result['embedded_per_s']:>9,.0f} events/s | "
                f"server peak RSS {result['peak_rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
