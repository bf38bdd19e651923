"""channels and surfaces: surface items, web push subscriptions, direct mail extracts

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clarion.storage.types import Json, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "direct_mail_rows",
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("run", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("row", Json, nullable=False),
        _workspace_fk("direct_mail_rows"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_direct_mail_rows")),
    )
    op.create_index("ix_direct_mail_rows_run", "direct_mail_rows", ["workspace_id", "run"])
    op.create_table(
        "direct_mail_runs",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("run", sa.String(length=200), nullable=False),
        sa.Column("csv_path", sa.Text(), nullable=False),
        sa.Column("parquet_path", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        _workspace_fk("direct_mail_runs"),
        sa.PrimaryKeyConstraint("workspace_id", "run", name=op.f("pk_direct_mail_runs")),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        _workspace_fk("push_subscriptions"),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_push_subscriptions")),
    )
    op.create_index(
        "ix_push_subscriptions_profile", "push_subscriptions", ["workspace_id", "profile_id"]
    )
    op.create_table(
        "surface_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("surface", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("content", Json, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("max_impressions", sa.Integer(), nullable=True),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=True),
        sa.Column("read_at", sa.BigInteger(), nullable=True),
        sa.Column("clicked_at", sa.BigInteger(), nullable=True),
        sa.Column("dismissed_at", sa.BigInteger(), nullable=True),
        _workspace_fk("surface_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surface_items")),
    )
    op.create_index(
        "ix_surface_items_profile", "surface_items", ["workspace_id", "profile_id", "surface"]
    )


def downgrade() -> None:
    op.drop_index("ix_surface_items_profile", table_name="surface_items")
    op.drop_table("surface_items")
    op.drop_index("ix_push_subscriptions_profile", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_table("direct_mail_runs")
    op.drop_index("ix_direct_mail_rows_run", table_name="direct_mail_rows")
    op.drop_table("direct_mail_rows")
