"""campaigns: states, runs, audience snapshots, trigger requests, outcome counts

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clarion.storage.types import Json, UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_outcomes",
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_outcomes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "outcome", name=op.f("pk_campaign_outcomes")),
    )
    with op.batch_alter_table("campaign_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_outcomes_run",
            ["workspace_id", "campaign_id", "run_id", "outcome"],
            unique=False,
        )
    op.create_table(
        "campaign_recipients",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_recipients_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_campaign_recipients")),
    )
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_recipients_profile", ["workspace_id", "profile_id"], unique=False
        )
    op.create_table(
        "campaign_requests",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("answer", Json, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_requests_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "campaign_id", "request_id", name=op.f("pk_campaign_requests")
        ),
    )
    op.create_table(
        "campaign_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurrence_at", sa.BigInteger(), nullable=False),
        sa.Column("occurrence", Json, nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("snapshot_at", UtcDateTime(), nullable=True),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("skipped", Json, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_runs")),
        sa.UniqueConstraint(
            "workspace_id", "campaign_id", "occurrence_at", name="uq_campaign_runs_once"
        ),
    )
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_runs_campaign", ["workspace_id", "campaign_id", "id"], unique=False
        )
        batch_op.create_index("ix_campaign_runs_due", ["status", "next_at"], unique=False)
    op.create_table(
        "campaign_states",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("pinned", Json, nullable=False),
        sa.Column("anchor_at", UtcDateTime(), nullable=True),
        sa.Column("next_fire_at", sa.BigInteger(), nullable=True),
        sa.Column("next_occurrence", Json, nullable=True),
        sa.Column("activated_at", UtcDateTime(), nullable=True),
        sa.Column("stopped_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_states_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "campaign_id", name=op.f("pk_campaign_states")),
    )
    with op.batch_alter_table("campaign_states", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_states_due", ["status", "next_fire_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_states", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_states_due")
    op.drop_table("campaign_states")
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_runs_due")
        batch_op.drop_index("ix_campaign_runs_campaign")
    op.drop_table("campaign_runs")
    op.drop_table("campaign_requests")
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_recipients_profile")
    op.drop_table("campaign_recipients")
    with op.batch_alter_table("campaign_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_outcomes_run")
    op.drop_table("campaign_outcomes")
