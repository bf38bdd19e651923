"""Delivery benchmark: personalised emails through the whole pipeline.

    .venv/bin/python -m bench.delivery [--messages 20000] [--smtp-messages 10000] [--processes 1]

(a) rendered and handed to the capture provider: queue N marketing emails to N
    profiles (consent, suppression, caps, quiet hours and throttle all run),
    then time the dispatcher until the outbox is empty;
(b) delivered by SMTP to Postfix's `smtp-sink` on loopback, without and with DKIM
    (RSA-2048), through the SMTP provider's connection pool (one per process).
Both run `--processes` dispatcher processes on the one database, as
`clarion worker --dispatchers N` does. Reports messages/s, the dispatcher's CPU
per message (summed over the processes), the load average after each part (on a
shared machine the rate follows it; the CPU figure much less) and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench._server import free_port, machine, peak_rss_mb
from clarion.api.app import open_database
from clarion.clock import SystemClock
from clarion.delivery import Dispatcher, ProviderRegistry, enqueue
from clarion.delivery.templates import TemplateStore
from clarion.ids import new_id
from clarion.model.messages import MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind
from clarion.model.profiles import ProfileRecord
from clarion.processing.heap import settle_heap
from clarion.storage.sql import SqlDatabase
from clarion.workspaces import create_workspace

HTML = """<html><head><style>p {{ color: #333 }} .btn {{ background: #0a7 }}</style></head>
<body><table width="600"><tr><td><h1>Hi {{{{ profile.first_name | default: 'there' }}}},</h1>
<p>You left {{{{ event.properties.items | size }}}} items in your cart at
{{{{ context.shop }}}}:</p>
<ul>{{% for item in event.properties.items %}}<li>{{{{ item.name }}}} - {{{{ item.price }}}} SEK
</li>{{% endfor %}}</ul><p>Your member level: {{{{ profile.tier | upcase }}}}.
Points: {{{{ profile.points }}}}.</p><p><a class="btn" href="https://shop.example/cart/
{{{{ profile.id }}}}">Finish your order</a></p>{filler}<p>Kind regards,<br>{{{{ context.shop }}}}
</p><p><a href="{{{{ message.unsubscribe_url }}}}">Unsubscribe</a></p></td></tr></table></body>
</html>""".format(filler="<p>" + "Lorem ipsum dolor sit amet, consectetur. " * 25 + "</p>")

TEMPLATE = {
    "kind": "template",
    "name": "cart",
    "channel": "email",
    "from": "Shop <shop@example.com>",
    "subject": "{{ profile.first_name }}, your cart is waiting",
    "html": HTML,
}


def setup(db: SqlDatabase, count: int) -> str:
    clock = SystemClock()
    workspace = create_workspace(db, clock, "bench").workspace.id
    now = clock.now()
    with db.write() as tx:
        tx.documents.put(workspace, "template", "cart", TEMPLATE, now)
    for start in range(0, count, 5000):
        with db.write() as tx:
            records = [
                ProfileRecord(
                    new_id(),
                    workspace,
                    {"first_name": f"Name{n}", "tier": "gold", "points": n},
                    {},
                    now,
                    now,
                )
                for n in range(start, min(count, start + 5000))
            ]
            tx.profiles.insert(records)
            tx.profiles.assign(
                workspace,
                [(("email", f"user{start + i}@example.com"), r.id) for i, r in enumerate(records)],
                now,
            )
            items = [
                {"name": "Sneaker", "price": 899},
                {"name": "Sock", "price": 49},
                {"name": "Cap", "price": 199},
            ]
            enqueue(
                tx,
                [
                    MessageIntent(
                        workspace,
                        "email",
                        "cart",
                        MessageSource(SourceKind.CAMPAIGN, "bench", run=r.id),
                        profile_id=r.id,
                        context={"shop": "Example Shop"},
                        event={"event": "Cart Abandoned", "properties": {"items": items}},
                    )
                    for r in records
                ],
                now,
            )
    return workspace


async def drain(dispatcher: Dispatcher) -> int:
    """Dispatch until nothing is due; providers are closed on the same event loop."""
    sent = 0
    try:
        while True:
            stats = await dispatcher.run_once()
            if stats.claimed == 0:
                return sent
            sent += stats.sent
    finally:
        await dispatcher.providers.close()


def make_dispatcher(db: SqlDatabase) -> Dispatcher:
    """A dispatcher as `clarion worker` builds one, on `db`."""
    clock = SystemClock()
    return Dispatcher(
        db,
        clock,
        ProviderRegistry(db, clock),
        TemplateStore(),
        public_url="https://clarion.example",
        send_concurrency=64,
    )


def dispatch(url: str, ready: Any = None) -> tuple[int, float, float, float]:
    """One dispatcher process (as `clarion worker` runs it): drain the outbox; returns
    (messages sent, CPU seconds, wall-clock start and end of the draining). With
    `ready` (a barrier), the processes start draining together, once all are up."""
    db = open_database(url)
    dispatcher = make_dispatcher(db)
    settle_heap()  # as `clarion serve` and `clarion worker` do once started
    if ready is not None:
        ready.wait()
    cpu, start = time.process_time(), time.time()
    sent = asyncio.run(drain(dispatcher))
    cpu, end = time.process_time() - cpu, time.time()
    db.close()
    return sent, cpu, start, end


def run(
    count: int,
    folder: Path,
    channel: tuple[str, dict[str, object]] | None,
    processes: int = 1,
) -> tuple[float, float]:
    """(messages/s, CPU µs per message summed over the dispatcher processes).

    The clock runs from the first dispatcher's start to the last one's end: starting
    processes (interpreter, imports) is not delivery."""
    url = f"sqlite:///{folder / f'{new_id()}.db'}"
    db = open_database(url)
    workspace = setup(db, count)
    clock = SystemClock()
    if channel is not None:
        with db.write() as tx:
            tx.set_channel_config(workspace, "email", channel[0], dict(channel[1]), clock.now())
    db.close()
    if processes == 1:
        results = [dispatch(url)]
    else:  # several dispatchers on one database, as scaled-out workers are
        context = get_context("spawn")
        with context.Manager() as manager, ProcessPoolExecutor(processes, context) as pool:
            barrier = manager.Barrier(processes)
            results = list(pool.map(dispatch, [url] * processes, [barrier] * processes))
    seconds = max(end for *_, end in results) - min(start for _, _, start, _ in results)
    sent = sum(n for n, *_ in results)
    assert sent == count, f"only {sent} of {count} sent"
    return count / seconds, sum(cpu for _, cpu, *_ in results) / count * 1e6


def load() -> str:
    """The 1-minute load average."""
    return str(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--smtp-messages", type=int, default=10_000)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1, help="dispatcher processes")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    with tempfile.TemporaryDirectory() as folder:
        rate, cpu = run(args.messages, Path(folder), None, args.processes)
        print(
            f"(a) capture: {args.messages} personalised emails, {args.processes} dispatcher"
            f" process(es): {rate:,.0f} messages/s, {cpu:.0f} µs of dispatcher CPU a message"
            f" (load {load()})"
        )
        sink = shutil.which("smtp-sink")
        if args.smtp_messages <= 0:
            print("(b) skipped: --smtp-messages 0")
            return
        if sink is None:
            print("(b) skipped: install Debian's postfix for smtp-sink")
            return
        port = free_port()
        process = subprocess.Popen(
            [sink, "-u", "nobody", f"127.0.0.1:{port}", "256"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            from clarion.channels.email import generate_dkim_key

            url = f"smtp://127.0.0.1:{port}?pool={args.pool}"
            smtp: dict[str, object] = {"url": url}
            key = generate_dkim_key("rsa", bits=2048)
            dkim = {"domain": "example.com", "selector": "s1", "private_key": key.private_pem}
            for label, config in (("no DKIM", smtp), ("DKIM RSA-2048", {**smtp, "dkim": dkim})):
                rate, cpu = run(args.smtp_messages, Path(folder), ("smtp", config), args.processes)
                print(
                    f"(b) SMTP, pool {args.pool} per process, {args.processes} dispatcher"
                    f" process(es), {label}: {rate:,.0f} messages/s,"
                    f" {cpu:.0f} µs of dispatcher CPU a message (load {load()})"
                )
        finally:
            process.terminate()
            process.wait()
    print(f"peak RSS of this process: {peak_rss_mb(__import__('os').getpid()):.0f} MB")


if __name__ == "__main__":
    main()
