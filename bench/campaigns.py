"""Campaign benchmarks (issue 8).

    .venv/bin/python -m bench.campaigns [--recipients 1000000] [--requests 5000]

(a) an action campaign of N personalised marketing emails, end to end into the
    capture provider: the audience snapshot (SQL), the run queueing recipients in
    bulk and the dispatcher (every pipeline stage, Liquid rendering, tracked links)
    running at the same time, as in `clarion serve`; total time, messages/s and
    the process's peak memory;
(b) an API-triggered transactional campaign behind `clarion serve` (workers on):
    a load generator on loopback sends one-recipient trigger calls from concurrent
    keep-alive clients; requests/s, and p50/p99 from sending the request to the
    provider call (the capture provider's time stamp).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench._server import create_workspace, machine, peak_rss_mb, serve
from clarion.api.app import open_database
from clarion.campaigns import RunWorker, activate, find_campaign
from clarion.clock import SystemClock, to_micros
from clarion.delivery import Dispatcher, ProviderRegistry
from clarion.delivery.templates import TemplateStore
from clarion.ids import new_id
from clarion.model.profiles import ProfileRecord
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


def action_campaign(recipients: int, folder: Path) -> dict[str, float]:
    db = open_database(f"sqlite:///{folder / 'action.db'}")
    clock = SystemClock()
    workspace = new_workspace(db, clock, "bench").workspace.id
    started = time.perf_counter()
    add_subscribers(db, workspace, recipients)
    setup = time.perf_counter() - started
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
    dispatcher = Dispatcher(
        db,
        clock,
        ProviderRegistry(db, clock),
        TemplateStore(),
        public_url="http://127.0.0.1:8000",
        batch_size=1000,
    )
    worker = RunWorker(db, clock)
    marks: dict[str, float] = {}

    def run_campaign() -> None:
        while True:
            stats = worker.step()
            if stats.snapshots and "snapshot" not in marks:
                marks["snapshot"] = time.perf_counter()
            with db.read() as tx:
                status = tx.conn.execute(select(campaign_runs.c.status)).scalar_one()
            if status != "sending":
                marks["queued"] = time.perf_counter()
                return

    started = time.perf_counter()
    with db.write() as tx:
        activate(tx, find_campaign(tx, workspace, "december"), clock.now())
    runner = threading.Thread(target=run_campaign)
    runner.start()

    async def dispatch() -> None:
        while True:
            stats = await dispatcher.run_once()
            if stats.claimed == 0 and not runner.is_alive():
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

    asyncio.run(dispatch())
    total = time.perf_counter() - started
    with db.read() as tx:
        sent = tx.conn.execute(select(func.count()).select_from(captured_messages)).scalar_one()
    db.close()
    return {
        "recipients": recipients,
        "sent": sent,
        "setup_s": setup,
        "snapshot_s": marks["snapshot"] - started,
        "queue_rate": recipients / (marks["queued"] - started),
        "total_s": total,
        "rate": sent / total,
        "peak_rss_mb": peak_rss_mb(os.getpid()),
    }


async def trigger_load(url: str, key: str, requests: int, concurrency: int) -> tuple:
    started_at: dict[str, float] = {}
    pending = list(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=60, headers={"Authorization": f"Bearer {key}"}
    ) as http:

        async def client() -> None:
            while pending:
                n = pending.pop()
                body = {
                    "requestId": f"order-{n}",
                    "recipients": [
                        {
                            "email": f"buyer{n}@example.com",
                            "context": {"order": {"id": str(n), "total": n % 500}},
                        }
                    ],
                    "context": {"shop": "Acme"},
                }
                sent = time.time()
                response = await http.post("/v1/campaigns/order-confirmation/trigger", json=body)
                if response.status_code != 202:
                    raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
                started_at[response.json()["recipients"][0]["message_id"]] = sent

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return started_at, time.perf_counter() - began


def api_campaign(requests: int, concurrency: int, folder: Path) -> dict[str, float]:
    db_url = f"sqlite:///{folder / 'api.db'}"
    keys = create_workspace(db_url)
    key = keys["secret_key"]
    with serve(db_url) as (url, process):
        headers = {"Authorization": f"Bearer {key}"}
        template = {
            "kind": "template",
            "name": "order-confirmation",
            "channel": "email",
            "from": "Shop <shop@example.com>",
            "subject": "Order {{ context.order.id }}",
            "text": "Thanks for order {{ context.order.id }} ({{ context.order.total }} SEK) "
            "at {{ context.shop }}.",
        }
        campaign = {
            "kind": "campaign",
            "name": "order-confirmation",
            "type": "api",
            "category": "transactional",
            "template": "order-confirmation",
        }
        httpx.post(f"{url}/v1/apply", json=[template, campaign], headers=headers).raise_for_status()
        httpx.post(
            f"{url}/v1/campaigns/order-confirmation/activate", headers=headers
        ).raise_for_status()
        started_at, elapsed = asyncio.run(trigger_load(url, key, requests, concurrency))
        db = open_database(db_url, migrate=False)
        deadline = time.monotonic() + 300
        while True:
            with db.read() as tx:
                rows = tx.conn.execute(
                    select(captured_messages.c.id, captured_messages.c.created_at)
                ).all()
            if len(rows) >= requests or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rss = peak_rss_mb(process.pid)
        db.close()
    latencies = sorted(
        (to_micros(at) / 1e6 - started_at[mid]) * 1000 for mid, at in rows if mid in started_at
    )
    return {
        "requests": requests,
        "delivered": len(latencies),
        "rps": requests / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "server_peak_rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=["action", "api"])
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "api"):
            print("(b) API-triggered:", api_campaign(args.requests, args.concurrency, Path(folder)))
        if args.only in (None, "action"):
            print("(a) action campaign:", action_campaign(args.recipients, Path(folder)))


if __name__ == "__main__":
    main()
