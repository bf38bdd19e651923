"""`clarion dispatcher`: a process that only delivers messages from the outbox.

One dispatcher process is bound by one core (rendering, MIME, DKIM signing and
the SMTP client all hold the GIL), so `clarion worker --dispatchers N` starts
N-1 of these beside its own dispatcher. Any number may run on one database:
claims are leased, so each message goes to one of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import typer

from clarion.channels.registry import install_channels
from clarion.cli.common import DbOption, console, database, settings
from clarion.clock import Clock, SystemClock
from clarion.config import Settings
from clarion.delivery import Dispatcher, DispatcherLoop, ProviderRegistry
from clarion.delivery.templates import TemplateStore
from clarion.processing.heap import settle_heap
from clarion.processing.watch import ChangeWatch
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.changes import ChangeProbe


def build_dispatcher(config: Settings, db: SqlDatabase, clock: Clock) -> Dispatcher:
    """A dispatcher with the providers `build_runtime` gives the worker's own."""
    defaults = {"email": ("smtp", {"url": config.smtp_url})} if config.smtp_url else {}
    providers = ProviderRegistry(db, clock, defaults=defaults)
    install_channels(providers, db, config.outbound_allow, config.base_url)
    return Dispatcher(
        db,
        clock,
        providers,
        TemplateStore(),
        public_url=config.base_url,
        lease_seconds=config.lease_seconds,
    )


def dispatcher(
    db: str | None = DbOption,
    with_parent: bool = typer.Option(
        False, "--with-parent", hidden=True, help="exit when the starting process is gone"
    ),
) -> None:
    """Deliver messages from the outbox until stopped (SIGTERM or Ctrl-C)."""
    config = settings(database_url=db)
    opened = database(db)
    opened.share_writes()
    loop = DispatcherLoop(build_dispatcher(config, opened, SystemClock()))
    watch = ChangeWatch(ChangeProbe(opened.engine), [loop.wake])
    if opened.shares_writes:
        opened.observe_writes(watch)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    settle_heap()
    loop.start()
    watch.start()
    console.print(f"Clarion dispatcher on {config.database_url}")
    # A worker killed outright cannot stop its dispatchers; they notice within a second.
    while not stop.wait(1.0):
        if with_parent and os.getppid() != parent:
            break
    watch.stop()
    loop.stop()


def start_dispatchers(count: int, db: str | None) -> list[subprocess.Popen[bytes]]:
    """Start `count` `clarion dispatcher` processes on the worker's database."""
    command = [sys.executable, "-m", "clarion.cli", "dispatcher", "--with-parent"]
    if db is not None:
        command += ["--db", db]
    return [subprocess.Popen(command) for _ in range(count)]


def stop_dispatchers(processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    """Ask each dispatcher to finish its batch and exit; kill any that does not in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()  # its claimed batch is sent again after the lease
            process.wait()
