"""Email wire path: MIME build rate, DKIM sign rate, and delivered messages/s over SMTP.

1. MIME: `build_message` on a ~600-byte and a ~3 KB message (and, for scale,
   the standard library's `EmailMessage.as_bytes()` on the small one).
2. DKIM: full signing (canonicalise, hash, sign, fold) with RSA-2048 and Ed25519.
3. End to end: `SmtpProvider.send` (build + optional DKIM + SMTP transaction
   over the connection pool) to Postfix's `smtp-sink` on loopback, with and
   without DKIM, from one process and (for RSA DKIM) from two worker processes
   each with its own provider, as `clarion worker` processes would. When
   `smtp-sink` is not installed (Debian package `postfix`), a minimal asyncio
   sink in a separate process stands in, and the output says so.

CPU figures are per message, client side (process time) and sink side (from
/proc), so they hold on a busy machine where wall-clock rates wobble.

    .venv/bin/python -m bench.email_send [--messages 20000] [--pool 8] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Any

from clarion.channels.base import RenderedEmail, RenderedMessage, SendStatus
from clarion.channels.email import DkimSigner, build_message, generate_dkim_key
from clarion.channels.email.smtp import SmtpProvider
from clarion.channels.email.smtp_settings import parse_smtp_url
from clarion.clock import SystemClock

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SMALL_HTML = (
    "<p>Hello {name}, you left something in your cart.</p>"
    "<p><a href='https://shop.example.com/cart/{n}'>Finish your order</a></p>"
    "<p><a href='https://shop.example.com/u/{n}'>Unsubscribe</a></p>"
)
SMALL_TEXT = "Hello {name}, finish your order: https://shop.example.com/cart/{n}\n"
LARGE_HTML = (
    "<table role='presentation' width='100%'><tr><td class='item'>Product {i} for {name}</td>"
    "<td align='right'>€{i}.99</td></tr></table>\n"
)


def email_for(n: int, large: bool = False) -> RenderedEmail:
    name = f"Zoë{n % 97}"
    html = SMALL_HTML.format(name=name, n=n)
    if large:
        html += "".join(LARGE_HTML.format(i=i, name=name) for i in range(25))
    return RenderedEmail(
        message_id=f"msg_{n:032x}",
        sender="Shop <shop@example.com>",
        to=f"customer{n}@example.org",
        subject=f"{name}, you left something in your cart",
        html=html,
        text=SMALL_TEXT.format(name=name, n=n),
        headers=(
            ("List-Unsubscribe", f"<https://shop.example.com/u/{n}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )


def per_second(fn: Callable[[int], object], seconds: float) -> tuple[float, float]:
    """(operations per second, µs per operation): best of three runs of ~seconds/3."""
    best = float("inf")
    for _ in range(3):
        n, start = 0, time.process_time()
        deadline = start + seconds / 3
        while time.process_time() < deadline:
            for i in range(200):
                fn(n + i)
            n += 200
        best = min(best, (time.process_time() - start) / n)
    return 1 / best, best * 1e6


def stdlib_build(n: int) -> bytes:
    email = email_for(n)
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"], message["To"], message["Subject"] = email.sender, email.to, email.subject
    message["Message-ID"] = f"<{email.message_id}@example.com>"
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html or "", subtype="html")
    return message.as_bytes()


def bench_cpu(seconds: float) -> None:
    small, large = len(build_message(email_for(1), date=NOW).data), None
    large = len(build_message(email_for(1, True), date=NOW).data)
    rate, us = per_second(lambda n: build_message(email_for(n), date=NOW), seconds)
    print(f"MIME build, {small} B message:   {rate:>9,.0f}/s  {us:7.1f} µs  (incl. RenderedEmail)")
    rate, us = per_second(lambda n: build_message(email_for(n, True), date=NOW), seconds)
    print(f"MIME build, {large} B message:  {rate:>9,.0f}/s  {us:7.1f} µs")
    rate, us = per_second(stdlib_build, seconds / 2)
    print(f"stdlib EmailMessage.as_bytes(), same small message: {rate:,.0f}/s  {us:.1f} µs")
    data = build_message(email_for(1), date=NOW).data
    for algorithm in ("rsa", "ed25519"):
        key = generate_dkim_key(algorithm)  # type: ignore[arg-type]
        signer = DkimSigner(domain="example.com", selector="s1", private_key=key.private_pem)
        rate, us = per_second(lambda n, s=signer: s.sign(data, now=NOW), seconds)
        label = "RSA-2048" if algorithm == "rsa" else "Ed25519"
        print(f"DKIM sign {label:<9} ({small} B):  {rate:>9,.0f}/s  {us:7.1f} µs")


class Sink:
    """Postfix smtp-sink (or the fallback asyncio sink) in its own process."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.kind = "smtp-sink" if shutil.which("smtp-sink") else "asyncio fallback sink"
        if self.kind == "smtp-sink":
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            command = ["smtp-sink", *user, f"127.0.0.1:{self.port}", "1024"]
        else:
            command = [sys.executable, "-m", "bench.email_send", "--sink", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("the SMTP sink did not start")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _deliver(
    url: str, algorithm: str | None, first: int, count: int, in_flight: int
) -> tuple[int, float, float, float]:
    """Send `count` messages; (sent, CPU seconds, start, end) of the sending phase only."""
    signer = None
    if algorithm:
        key = generate_dkim_key(algorithm)  # type: ignore[arg-type]
        signer = DkimSigner(domain="example.com", selector="s1", private_key=key.private_pem)
    provider = SmtpProvider(parse_smtp_url(url), dkim=signer, clock=SystemClock())
    messages = [
        RenderedMessage(
            message_id=e.message_id, workspace_id="ws", channel="email", to=e.to, fields={}, email=e
        )
        for e in (email_for(n) for n in range(first, first + count))
    ]
    sent = 0
    queue = iter(messages)

    async def worker() -> None:
        nonlocal sent
        for message in queue:
            result = await provider.send(message)
            if result.status is not SendStatus.SENT:
                raise RuntimeError(f"send failed: {result}")
            sent += 1

    cpu, start = time.process_time(), time.time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    cpu, end = time.process_time() - cpu, time.time()
    await provider.close()
    return sent, cpu, start, end


def _run_loop(coro: Any, use_uvloop: bool) -> Any:
    if use_uvloop:
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def _worker_process(
    args: tuple[str, str | None, int, int, int, bool],
) -> tuple[int, float, float, float]:
    url, algorithm, first, count, in_flight, use_uvloop = args
    return _run_loop(_deliver(url, algorithm, first, count, in_flight), use_uvloop)  # type: ignore[no-any-return]


def bench_delivery(args: argparse.Namespace) -> None:
    sink = Sink()
    print(f"\nEnd to end to {sink.kind} on loopback (pool={args.pool}, in flight={2 * args.pool}, "
          f"loop={'uvloop' if args.uvloop else 'asyncio'})")  # fmt: skip
    url = f"smtp://127.0.0.1:{sink.port}?pool={args.pool}&timeout=30"
    runs = [(None, 1), ("rsa", 1), ("ed25519", 1), (None, 2), ("rsa", 2)]
    try:
        _run_loop(_deliver(url, None, 0, 500, 2 * args.pool), args.uvloop)  # warm up
        for algorithm, processes in runs:
            count = args.messages if algorithm is None else args.messages // 2
            per = count // processes
            jobs = [
                (url, algorithm, i * per, per, 2 * args.pool, args.uvloop) for i in range(processes)
            ]
            sink_cpu = sink.cpu_seconds()
            if processes == 1:
                outcomes = [_worker_process(jobs[0])]
            else:
                with multiprocessing.get_context("fork").Pool(processes) as pool:
                    outcomes = pool.map(_worker_process, jobs)
            sink_cpu = sink.cpu_seconds() - sink_cpu
            wall = max(o[3] for o in outcomes) - min(o[2] for o in outcomes)
            sent = sum(o[0] for o in outcomes)
            client_cpu = sum(o[1] for o in outcomes)
            label = {None: "no DKIM", "rsa": "DKIM RSA-2048", "ed25519": "DKIM Ed25519"}[algorithm]
            print(
                f"{label:<14} {processes} process{'es' if processes > 1 else '  '}: "
                f"{sent / wall:>7,.0f} msg/s  ({sent} in {wall:.2f} s; CPU per message: "
                f"client {client_cpu / sent * 1e6:.0f} µs, sink {sink_cpu / sent * 1e6:.0f} µs)"
            )
    finally:
        sink.stop()


async def _fallback_sink(port: int) -> None:
    """A minimal SMTP sink: pipelining-safe, accepts everything, stores nothing."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    writer.write(b"250 2.0.0 Ok: queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                break
            else:
                writer.write(b"250 Ok\r\n")
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=1.5, help="per CPU figure")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        asyncio.run(_fallback_sink(args.sink))
        return
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}")  # fmt: skip
    bench_cpu(args.seconds)
    bench_delivery(args)


if __name__ == "__main__":
    main()
