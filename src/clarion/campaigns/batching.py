"""Group commit for trigger calls: concurrent calls share one transaction.

A trigger call is durable when its transaction commits, and with SQLite's
`synchronous=FULL` each commit is an fsync. One thread takes every call waiting
at that moment and runs them one after another in ONE transaction, then answers
them all: under load, many calls share one commit; alone, a call commits at
once (nothing waits for company). A call that fails with a Clarion error (an
unknown campaign, a stopped one) fails before it writes anything, so it is
answered with its error while the others commit; any other error rolls the
whole group back and every call in it gets the error.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from clarion.model.errors import ClarionError
from clarion.storage.base import Database, Tx

Work = Callable[[Tx], Any]


@dataclass
class _Job:
    work: Work
    future: Future[Any] = field(default_factory=Future)


class GroupCommitter:
    """Runs submitted work in shared write transactions (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        *,
        max_group: int = 256,
        idle_seconds: float = 5.0,
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.max_group = max_group
        self.after_commit = after_commit
        self._idle = idle_seconds
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, work: Work) -> Future[Any]:
        """Queue `work(tx)`; the future holds its result once the group has committed."""
        job = _Job(work)
        self._jobs.put(job)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="clarion-trigger-commits", daemon=True
                )
                self._thread.start()
        return job.future

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
            group = [first]
            while len(group) < self.max_group:
                try:
                    group.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            self._commit(group)

    def _commit(self, group: list[_Job]) -> None:
        results: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self.db.write() as tx:
                for job in group:
                    try:
                        results.append((job, job.work(tx), None))
                    except ClarionError as exc:
                        results.append((job, None, exc))
        except BaseException as exc:  # the whole group rolled back
            for job in group:
                job.future.set_exception(exc)
            return
        self.after_commit()
        for job, result, error in results:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
