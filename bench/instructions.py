"""Instructions per message or event, counted by valgrind's callgrind: A/B comparisons
that a shared machine's noise does not blur.

    .venv/bin/python -m bench.instructions delivery [--messages 3000]
    .venv/bin/python -m bench.instructions audiences [--events 4000]

Wall-clock rates on a shared 2-core machine drift by ±5% within an hour and by
more between minutes (another tenant's load, the host's clock speed), which hides
a 2% change. Callgrind counts the instructions the process executes, its threads
and SQLite included: the same code, data and batch sizes give the same count to
~0.1% whatever else the machine is doing. It counts work, not time: it misses
what waiting (fsync, locks, another process) costs, so confirm a change that
alters I/O or locking with the wall-clock benchmarks too.

`delivery` queues N personalised emails as `bench/delivery.py` does and counts one
dispatcher draining them into the capture provider. `audiences` appends N events as
`bench/audiences.py` (a) does, stamps them, and counts the audience consumer with
its 50 live audiences. Only the draining is counted (`--instr-atstart=no`, switched
on and off around it with `callgrind_control`), not the set-up or the imports. Under
callgrind Python runs ~50x slower: a run takes a minute or two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _collect(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


def _child_delivery(path: str) -> int:
    from bench.delivery import drain
    from clarion.api.app import open_database
    from clarion.clock import SystemClock
    from clarion.delivery import Dispatcher, ProviderRegistry
    from clarion.delivery.templates import TemplateStore
    from clarion.processing.heap import settle_heap

    db = open_database(f"sqlite:///{path}")
    clock = SystemClock()
    dispatcher = Dispatcher(
        db,
        clock,
        ProviderRegistry(db, clock),
        TemplateStore(),
        public_url="https://clarion.example",
        send_concurrency=64,
    )
    settle_heap()
    _collect(True)
    sent = asyncio.run(drain(dispatcher))
    db.close()
    _collect(False)
    return sent


def _child_audiences(path: str) -> int:
    from clarion.audiences.membership import AudienceConsumer
    from clarion.clock import SystemClock
    from clarion.processing.consumers import drain
    from clarion.processing.heap import settle_heap
    from clarion.storage.sql import SqlDatabase

    db = SqlDatabase.from_url(f"sqlite:///{path}")
    clock = SystemClock()
    consumer = AudienceConsumer(clock)
    settle_heap()
    _collect(True)
    drain(db, clock, [consumer], limit=1000)
    _collect(False)
    db.close()
    return 0


def _prepare_delivery(path: Path, count: int) -> None:
    from bench.delivery import setup
    from clarion.api.app import open_database

    db = open_database(f"sqlite:///{path}")
    setup(db, count)
    db.close()


def _prepare_audiences(path: Path, count: int) -> None:
    from bench._server import create_workspace
    from bench.audiences import fifty_audiences, log_events
    from clarion.api.runtime import builtin_kinds
    from clarion.clock import SystemClock
    from clarion.documents import KindRegistry, apply_documents
    from clarion.processing.consumers import drain
    from clarion.profiles import IdentityStage
    from clarion.storage.sql import SqlDatabase

    url = f"sqlite:///{path}"
    db = SqlDatabase.from_url(url)
    workspace = create_workspace(url)["id"]
    clock = SystemClock()
    with db.write() as tx:
        apply_documents(
            tx, KindRegistry(builtin_kinds()), workspace, fifty_audiences(), clock.now()
        )
    events = list(log_events(count, 0))
    for start in range(0, count, 1000):
        with db.write() as tx:
            tx.events.append(workspace, events[start : start + 1000], clock.now())
    drain(db, clock, [IdentityStage(clock)], limit=2000)
    db.close()


def count(kind: str, n: int) -> float:
    """Instructions per message (delivery) or per event (audiences)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("install valgrind (Debian's package) to count instructions")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        (_prepare_delivery if kind == "delivery" else _prepare_audiences)(path, n)
        out = Path(folder) / "callgrind.out"
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.instructions",
                f"_{kind}",
                str(path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise SystemExit(f"callgrind run failed:\n{result.stderr[-3000:]}")
        return int(found.group(1)) / n


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] in ("_delivery", "_audiences"):
        (_child_delivery if sys.argv[1] == "_delivery" else _child_audiences)(sys.argv[2])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("kind", choices=["delivery", "audiences"])
    parser.add_argument("--messages", type=int, default=3000, help="delivery: messages")
    parser.add_argument("--events", type=int, default=4000, help="audiences: events")
    args = parser.parse_args()
    n = args.messages if args.kind == "delivery" else args.events
    per = count(args.kind, n)
    unit = "message" if args.kind == "delivery" else "event"
    print(f"{args.kind}: {n} {unit}s, {per:,.0f} instructions a {unit}")


if __name__ == "__main__":
    main()
