"""`clarion worker`: log consumers and the dispatcher, without HTTP (scaled-out mode)."""

from __future__ import annotations

import signal
import threading

import typer

from clarion.api.runtime import build_runtime
from clarion.cli.common import DbOption, console, database, settings
from clarion.cli.dispatchers import start_dispatchers, stop_dispatchers
from clarion.clock import SystemClock
from clarion.processing.heap import settle_heap


def worker(
    db: str | None = DbOption,
    dispatchers: int = typer.Option(
        1, "--dispatchers", min=1, help="dispatcher processes (N-1 more beside this one's)"
    ),
) -> None:
    """Process the event log and deliver messages until stopped (SIGTERM or Ctrl-C)."""
    config = settings(database_url=db)
    opened = database(db)
    opened.share_writes()  # the API and dispatcher processes write to it too
    runtime = build_runtime(config, opened, SystemClock())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    settle_heap()
    runtime.start(watch_other_processes=True)
    extra = start_dispatchers(dispatchers - 1, db)
    console.print(f"Clarion worker on {config.database_url}")
    stop.wait()
    stop_dispatchers(extra)
    runtime.stop()
