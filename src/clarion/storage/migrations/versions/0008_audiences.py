"""audiences: members, timers, status

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clarion.storage.types import Json, UtcDateTime  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audience_members",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audience_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "audience", "profile_id", name=op.f("pk_audience_members")
        ),
    )
    with op.batch_alter_table("audience_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audience_members_profile", ["workspace_id", "profile_id"], unique=False
        )

    op.create_table(
        "audience_status",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audience_status_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "audience", name=op.f("pk_audience_status")),
    )
    op.create_table(
        "audience_timers",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audience_timers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "audience", "profile_id", name=op.f("pk_audience_timers")
        ),
    )
    with op.batch_alter_table("audience_timers", schema=None) as batch_op:
        batch_op.create_index("ix_audience_timers_due", ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audience_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_audience_timers_due")

    op.drop_table("audience_timers")
    op.drop_table("audience_status")
    with op.batch_alter_table("audience_members", schema=None) as batch_op:
        batch_op.drop_index("ix_audience_members_profile")

    op.drop_table("audience_members")
