"""orchestrated campaigns: canvas runs and calculations

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clarion.storage.types import Json, UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canvas_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("canvas_id", sa.String(length=40), nullable=False),
        sa.Column("canvas_name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("state", Json, nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("cleaned_at", UtcDateTime, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_canvas_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canvas_runs")),
    )
    op.create_index("ix_canvas_runs_canvas", "canvas_runs", ["workspace_id", "canvas_id", "id"])
    op.create_index("ix_canvas_runs_due", "canvas_runs", ["status", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_canvas_runs_due", table_name="canvas_runs")
    op.drop_index("ix_canvas_runs_canvas", table_name="canvas_runs")
    op.drop_table("canvas_runs")
