"""The threads that make DKIM signatures for `SmtpProvider.send_many`, when cores are spare.

An RSA-2048 signature is ~0.25 ms of OpenSSL work that `cryptography` runs
without the GIL, so a thread can sign while the process's one core of Python
renders, records and sends. That pays only when a core is left over: with as
many dispatcher processes as cores (`clarion worker --dispatchers N`), every
core already runs a dispatcher, and handing signatures to threads costs more
CPU than it saves (measured in bench/README.md), so they sign in the sending
task. Each process is told how many dispatcher processes share the machine.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_state: dict[str, ThreadPoolExecutor | int | None] = {"processes": 1, "executor": None}


def signing_threads_for(dispatcher_processes: int) -> int:
    """Signing threads for each of `dispatcher_processes` processes on this machine: the
    cores left once each process has one for its own work (0: sign inline)."""
    return max(0, (os.cpu_count() or 1) // max(1, dispatcher_processes) - 1)


def configure_signing(dispatcher_processes: int) -> None:
    """Say how many dispatcher processes run on this machine (1 unless told)."""
    executor = _state["executor"]
    if isinstance(executor, ThreadPoolExecutor):
        executor.shutdown(wait=False)
    _state.update(processes=dispatcher_processes, executor=None)


def signing_executor() -> ThreadPoolExecutor | None:
    """The signing threads, or None when signatures are made inline."""
    executor = _state["executor"]
    if isinstance(executor, ThreadPoolExecutor):
        return executor
    processes = _state["processes"]
    threads = signing_threads_for(processes if isinstance(processes, int) else 1)
    if threads == 0:
        return None
    created = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dkim")
    _state["executor"] = created
    return created
