"""Helpers for benchmarks: run `clarion serve` as a user would, on a fresh database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

PG_ADMIN = os.environ.get("CLARION_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """A database URL: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"clarion_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + "/"
            + name
        )
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_workspace(db_url: str) -> dict[str, str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "clarion.cli",
            "workspaces",
            "create",
            "bench",
            "--db",
            db_url,
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


@contextmanager
def serve(db_url: str, *, workers: bool = True) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`clarion serve` on a free port; yields its URL and process."""
    port = free_port()
    env = {**os.environ, "CLARION_WORKERS": "true" if workers else "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion.cli", "serve", "--db", db_url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("clarion serve did not start")
        time.sleep(0.05)
    try:
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=60)


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    from clarion.compiled import compiled_in_use

    modules = "mypyc-compiled hot modules" if compiled_in_use() else "hot modules as Python"
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}, {modules}"
