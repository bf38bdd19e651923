"""Garbage-collector settings for the long-running processes (`serve`, `worker`)."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Allocations between young-generation collections (Python's default is 700). A batch
of 1,000 events or 2,000 messages allocates that many objects, most of them garbage by
its end: collecting once a batch rather than every few hundred objects saved 2.4% of
the audience consumer's instructions against 10,000 (0.6% of the dispatcher's);
200,000 saved little more."""


def settle_heap() -> None:
    """Call once start-up is done: move what exists now (modules, compiled statements,
    parsed documents) out of the collector's reach, and collect the young generation
    less often.

    Consumers allocate many short-lived objects per batch; with the defaults the
    collector scanned the whole long-lived heap every few batches (16% of the journey
    consumer's time in bench/journeys.py (a); under 2% after this).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
