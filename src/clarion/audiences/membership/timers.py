"""Membership that changes by time alone: re-evaluated at the exact instant it can.

An audience timer due at `t` fires only once the audience consumer's watermark
has passed `t`, so events received before the window closed count first.
"""

from __future__ import annotations

import itertools

from clarion.audiences.membership.consumer import AUDIENCE_CONSUMER
from clarion.audiences.membership.evaluate import reevaluate
from clarion.audiences.membership.index import AudienceIndex
from clarion.clock import Clock, to_micros
from clarion.storage.base import Database


def reevaluate_due(db: Database, clock: Clock, limit: int = 1000) -> int:
    """Re-evaluate the due (profile, audience) pairs; returns how many were due."""
    now = clock.now()
    with db.write() as tx:
        watermark = tx.events.watermark(AUDIENCE_CONSUMER) or 0
        due = tx.audiences.take_due(limit, min(to_micros(now), watermark))
        for workspace_id, rows in itertools.groupby(sorted(due), key=lambda r: r[0]):
            index = AudienceIndex(tx, workspace_id)
            reevaluate(tx, workspace_id, index, [(pid, name) for _w, name, pid in rows], now)
    return len(due)
