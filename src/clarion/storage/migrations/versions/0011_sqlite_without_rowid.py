"""small keyed tables on SQLite: WITHOUT ROWID (the primary key is the table)

A rowid table with a text primary key is two B-trees: the rows by rowid and the
key's own index. Each insert writes both and each lookup of a column outside
the key seeks both. Stored WITHOUT ROWID, the rows live in the key's B-tree:
one write, one seek. SQLite recommends it for rows well under a twentieth of a
page, which every table here is (ids, names, a few integers).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "audience_members",
    "audience_timers",
    "identities",
    "send_ledger",
    "campaign_recipients",
    "campaign_outcomes",
    "journey_waits",
    "subscriptions",
    "address_subscriptions",
    "suppressions",
)


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
