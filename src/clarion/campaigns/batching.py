"""Group commit for trigger calls: concurrent calls share one transaction.

A trigger call is durable when its transaction commits, and with SQLite's
`synchronous=FULL` each commit is an fsync. One thread takes the write lock and
then every call waiting at that moment (those that arrived while another writer
held the lock too), hands the calls of the same key (a workspace's campaign) to the
handler together, so that they share their statements too, and commits once;
then it answers them all. Under load many calls share one commit; alone, a call
commits at once (nothing waits for company).

The handler answers each call with a result or a Clarion error (an unknown
campaign, a stopped one, a malformed body), which it must raise before writing
anything for that call; any other error rolls the whole group back and every
call in it gets that error.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from clarion.storage.base import Database, Tx

Handler = Callable[[Tx, Any, Sequence[Any]], Sequence[Any]]
"""(transaction, key, payloads) -> one result or ClarionError per payload, in order."""


@dataclass
class _Job:
    key: Hashable
    payload: Any
    future: Future[Any] | asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop | None = None
    """The event loop of an `asyncio.Future` (settled there, one call per group and loop)."""


def _settle(outcomes: list[tuple[Future[Any] | asyncio.Future[Any], Any, bool]]) -> None:
    for future, value, failed in outcomes:
        if future.cancelled():
            continue
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)


class GroupCommitter:
    """Runs submitted payloads through `handler` in shared write transactions."""

    def __init__(
        self,
        db: Database,
        handler: Handler,
        *,
        max_group: int = 256,
        idle_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.handler = handler
        self.max_group = max_group
        self._idle = idle_seconds
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, key: Hashable, payload: Any) -> Future[Any]:
        """Queue a payload; the future holds its result once its group has committed."""
        future: Future[Any] = Future()
        self._enqueue(_Job(key, payload, future))
        return future

    def submit_async(self, key: Hashable, payload: Any) -> asyncio.Future[Any]:
        """`submit` for a caller on an event loop: the calls of a group waiting on the same
        loop are answered together, by one callback (not one wake-up of the loop each)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._enqueue(_Job(key, payload, future, loop))
        return future

    def _enqueue(self, job: _Job) -> None:
        self._jobs.put(job)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="clarion-trigger-commits", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._jobs.get(timeout=self._idle)
            except queue.Empty:
                with self._lock:  # stop when idle; the next submit starts a new thread
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            self._commit([first])

    def _gather(self, group: list[_Job]) -> None:
        """Add the calls waiting now (up to `max_group`)."""
        while len(group) < self.max_group:
            try:
                group.append(self._jobs.get_nowait())
            except queue.Empty:
                return

    def _commit(self, group: list[_Job]) -> None:
        results: list[tuple[_Job, Any]] = []
        try:
            with self.db.write() as tx:
                # Gathered once the write lock is held: the calls that arrived while
                # another writer held it join this commit instead of waiting for the next.
                self._gather(group)
                by_key: dict[Hashable, list[_Job]] = {}
                for job in group:
                    by_key.setdefault(job.key, []).append(job)
                for key, jobs in by_key.items():
                    answers = self.handler(tx, key, [j.payload for j in jobs])
                    results.extend(zip(jobs, answers, strict=True))
        except BaseException as exc:  # the whole group rolled back
            self._answer([(job, exc) for job in group])
            return
        self._answer(results)

    @staticmethod
    def _answer(results: list[tuple[_Job, Any]]) -> None:
        """Settle the futures: a thread's at once; a loop's in one callback per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for job, result in results:
            outcome = (job.future, result, isinstance(result, BaseException))
            if job.loop is None:
                _settle([outcome])
            else:
                by_loop.setdefault(job.loop, []).append(outcome)
        for loop, outcomes in by_loop.items():
            with suppress(RuntimeError):  # a closed loop: nobody waits for these answers
                loop.call_soon_threadsafe(_settle, outcomes)
