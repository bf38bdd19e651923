"""Instructions per message or event, counted by valgrind's callgrind: A/B comparisons
that a shared machine's noise does not blur.

    .venv/bin/python -m bench.instructions delivery [--messages 3000]
    .venv/bin/python -m bench.instructions audiences [--events 4000]
    .venv/bin/python -m bench.instructions run [--recipients 20000]
    .venv/bin/python -m bench.instructions consumers [--drains 400]

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
its 50 live audiences. `run` activates `bench/campaigns.py`'s campaign to N
subscribers and counts its run's snapshot and queueing (no dispatcher). `consumers`
runs `clarion serve`'s five log consumers after each of N appends of five
`message.sent` events (an API-triggered campaign's group commits at 1,000 calls/s, on
a fake clock 5 ms apart) and counts the drains. Only that
work is counted (`--instr-atstart=no`, switched on and off around it with
`callgrind_control`), not the set-up or the imports. Under
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
from typing import Any


def _collect(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


def _child_delivery(path: str) -> int:
    from bench.delivery import drain, make_dispatcher
    from clarion.api.app import open_database
    from clarion.processing.heap import settle_heap

    db = open_database(f"sqlite:///{path}")
    dispatcher = make_dispatcher(db)
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


def _child_run(path: str) -> int:
    from bench.campaigns import run_queued
    from clarion.api.app import open_database
    from clarion.campaigns import RunWorker
    from clarion.clock import SystemClock
    from clarion.processing.heap import settle_heap

    db = open_database(f"sqlite:///{path}")
    worker = RunWorker(db, SystemClock())
    settle_heap()
    _collect(True)
    while not run_queued(db):
        worker.step()
    _collect(False)
    db.close()
    return 0


def _outcomes(workspace: str, count: int, now: Any) -> list[Any]:
    """`count` `message.sent` events of an API-triggered campaign, as a group commit of
    `count` trigger calls appends them."""
    from clarion.delivery.outcomes import outcome_event
    from clarion.ids import new_id
    from clarion.model.messages import MessageIntent, MessageSource
    from clarion.model.outcomes import Outcome, SourceKind

    source = MessageSource(SourceKind.CAMPAIGN, "bench", run="req:bench")
    return [
        outcome_event(
            MessageIntent(workspace, "email", "t", source, profile_id=new_id()), Outcome.SENT, now
        )
        for _ in range(count)
    ]


def _child_consumers(path: str) -> int:
    from clarion.api.app import open_database
    from clarion.api.runtime import consumers
    from clarion.processing.consumers import drain
    from clarion.processing.heap import settle_heap
    from clarion.testing import FakeClock

    db = open_database(f"sqlite:///{path}")
    workspace = os.environ["BENCH_WORKSPACE"]
    clock = FakeClock()
    standard = consumers(clock)
    drain(db, clock, standard)
    settle_heap()
    for _ in range(int(os.environ["BENCH_CYCLES"])):
        # 1,000 calls/s in group commits of five: a drain every 5 ms, counted alone.
        clock.advance(seconds=0.005)
        with db.write() as tx:
            tx.events.append(workspace, _outcomes(workspace, 5, clock.now()), clock.now())
        _collect(True)
        drain(db, clock, standard)
        _collect(False)
    db.close()
    return 0


def _prepare_consumers(path: Path, count: int) -> None:
    from clarion.api.app import open_database
    from clarion.clock import SystemClock
    from clarion.workspaces import create_workspace

    db = open_database(f"sqlite:///{path}")
    os.environ["BENCH_WORKSPACE"] = create_workspace(db, SystemClock(), "bench").workspace.id
    os.environ["BENCH_CYCLES"] = str(count)
    db.close()


def _prepare_run(path: Path, count: int) -> None:
    from bench.campaigns import add_subscribers, define_campaign
    from clarion.api.app import open_database
    from clarion.campaigns import activate, find_campaign
    from clarion.clock import SystemClock
    from clarion.workspaces import create_workspace

    db = open_database(f"sqlite:///{path}")
    clock = SystemClock()
    workspace = create_workspace(db, clock, "bench").workspace.id
    add_subscribers(db, workspace, count)
    define_campaign(db, clock, workspace)
    with db.write() as tx:
        activate(tx, find_campaign(tx, workspace, "december"), clock.now())
    db.close()


def _prepare_delivery(path: Path, count: int) -> None:
    from bench.delivery import setup
    from clarion.api.app import open_database

    db = open_database(f"sqlite:///{path}")
    setup(db, count)
    db.close()


def _prepare_audiences(path: Path, count: int) -> None:
    from bench.audiences import prepare_realtime

    db, _ = prepare_realtime(f"sqlite:///{path}", count)
    db.close()


def count(kind: str, n: int) -> float:
    """Instructions per message (delivery), event (audiences), recipient (run) or drain
    of the log consumers (consumers)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("install valgrind (Debian's package) to count instructions")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        PREPARE[kind](path, n)
        out = Path(folder) / "callgrind.out"
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={os.environ.get('CALLGRIND_OUT', out)}",
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


CHILD = {
    "delivery": _child_delivery,
    "audiences": _child_audiences,
    "run": _child_run,
    "consumers": _child_consumers,
}
PREPARE = {
    "delivery": _prepare_delivery,
    "audiences": _prepare_audiences,
    "run": _prepare_run,
    "consumers": _prepare_consumers,
}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1].lstrip("_") in CHILD:
        CHILD[sys.argv[1].lstrip("_")](sys.argv[2])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("kind", choices=list(CHILD))
    parser.add_argument("--messages", type=int, default=3000, help="delivery: messages")
    parser.add_argument("--events", type=int, default=4000, help="audiences: events")
    parser.add_argument("--recipients", type=int, default=20_000, help="run: recipients")
    parser.add_argument("--drains", type=int, default=400, help="consumers: drains")
    args = parser.parse_args()
    n, unit = {
        "delivery": (args.messages, "message"),
        "audiences": (args.events, "event"),
        "run": (args.recipients, "recipient"),
        "consumers": (args.drains, "drain"),
    }[args.kind]
    per = count(args.kind, n)
    print(f"{args.kind}: {n} {unit}s, {per:,.0f} instructions a {unit}")


if __name__ == "__main__":
    main()
