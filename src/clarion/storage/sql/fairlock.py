"""A first-come, first-served lock for the threads of one process.

`threading.Lock` is not fair: a thread that releases it and asks again at once
usually wins, so a busy log consumer would starve the dispatcher of SQLite's
single write slot. Tickets make waiting threads go in arrival order.
"""

from __future__ import annotations

import threading
from types import TracebackType


class FairLock:
    """A lock granted in the order it was asked for."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> FairLock:
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._condition.wait()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with self._condition:
            self._serving += 1
            self._condition.notify_all()
