"""A claim reads only as many due messages as it takes, however many are queued."""

from __future__ import annotations

from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.outbox import _claim_sql


def test_sqlite_claims_walk_the_due_index_in_order_without_sorting_every_due_message(
    sqlite_db: SqlDatabase,
) -> None:
    with sqlite_db.read() as tx:
        plan = [
            str(row[3])
            for row in tx.conn.exec_driver_sql(  # type: ignore[attr-defined]
                "EXPLAIN QUERY PLAN " + _claim_sql("sqlite"), (1, 10, 1, 10, 10, 1, "t")
            )
        ]
    # Pending messages in `ix_outbox_due` order, cut at the limit: no OR over two
    # indexes, whose rows the database would have to collect and sort in full.
    assert "SEARCH outbox USING INDEX ix_outbox_due (status=? AND due_at<?)" in plan
    assert not any("MULTI-INDEX OR" in step for step in plan)
