"""journeys: states, instances, waits, timers, stats

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clarion.storage.types import Json, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey_instances",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("journey", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=True),
        sa.Column("state", Json, nullable=False),
        sa.Column("entered_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_journey_instances_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_instances")),
    )
    with op.batch_alter_table("journey_instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_instances_journey",
            ["workspace_id", "journey", "status", "node"],
            unique=False,
        )
        batch_op.create_index(
            "ix_journey_instances_profile", ["workspace_id", "profile_id", "journey"], unique=False
        )

    op.create_table(
        "journey_states",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("journey", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("pinned", Json, nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_journey_states_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "journey", name=op.f("pk_journey_states")),
    )
    op.create_table(
        "journey_stats",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("journey", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("counter", sa.String(length=100), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_journey_stats_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "journey", "version", "node", "counter", name=op.f("pk_journey_stats")
        ),
    )
    op.create_table(
        "journey_timers",
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("payload", Json, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_journey_timers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "key", name=op.f("pk_journey_timers")),
    )
    with op.batch_alter_table("journey_timers", schema=None) as batch_op:
        batch_op.create_index("ix_journey_timers_due", ["due_at"], unique=False)

    op.create_table(
        "journey_waits",
        sa.Column("instance_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_journey_waits_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "event", name=op.f("pk_journey_waits")),
    )
    with op.batch_alter_table("journey_waits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_waits_profile", ["workspace_id", "profile_id", "event"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("journey_waits", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_waits_profile")

    op.drop_table("journey_waits")
    with op.batch_alter_table("journey_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_timers_due")

    op.drop_table("journey_timers")
    op.drop_table("journey_stats")
    op.drop_table("journey_states")
    with op.batch_alter_table("journey_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_instances_profile")
        batch_op.drop_index("ix_journey_instances_journey")

    op.drop_table("journey_instances")
