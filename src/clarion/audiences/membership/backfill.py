"""Backfills: a new or changed audience gets its members from the SQL compiler.

The audience document marks itself `pending`; the background loop computes the
exact members with SQL, writes the difference (without entered/exited events:
a backfill is not a qualification), plans time-based re-evaluation for its
members, and marks it `ready` with its count. Progress is the status.
"""

from __future__ import annotations

from clarion.audiences.membership.evaluate import reevaluate
from clarion.audiences.membership.index import AudienceIndex
from clarion.clock import Clock, to_micros
from clarion.model.audience import parse_audience
from clarion.storage.base import Database


def backfill_pending(db: Database, clock: Clock, limit: int = 1) -> int:
    """Backfill up to `limit` pending audiences; returns how many were done."""
    with db.read() as tx:
        pending = tx.audiences.pending(limit)
    for workspace_id, name in pending:
        now = clock.now()
        with db.write() as tx:
            doc = tx.documents.get(workspace_id, "audience", name)
            if doc is None:
                tx.audiences.drop(workspace_id, name)
                continue
            tx.audiences.set_status(workspace_id, name, "backfilling", doc.version, 0, now)
        try:
            with db.write() as tx:
                spec = parse_audience(doc.spec)
                if spec.definition is not None:
                    index = AudienceIndex(tx, workspace_id)
                    members = set(
                        tx.audience_members(workspace_id, spec.definition, now, index.resolver)
                    )
                    stored = tx.audiences.all_members(workspace_id, name)
                    tx.audiences.add(workspace_id, name, sorted(members - stored), to_micros(now))
                    tx.audiences.remove(workspace_id, name, sorted(stored - members))
                    live = index.audiences.get(name)
                    if live is not None and live.needs.time_dependent:
                        reevaluate(tx, workspace_id, index, [(p, name) for p in members], now)
                count = tx.audiences.count(workspace_id, name)
                tx.audiences.set_status(workspace_id, name, "ready", doc.version, count, now)
        except Exception as exc:  # an audience SQL cannot compute is reported, not retried
            with db.write() as tx:
                tx.audiences.set_status(
                    workspace_id, name, "failed", doc.version, 0, now, error=str(exc)[:1000]
                )
    return len(pending)
