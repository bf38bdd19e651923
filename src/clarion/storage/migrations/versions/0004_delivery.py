"""delivery: outbox, captured messages, suppressions, send ledger, channel configs,
document versions, secrets

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clarion.storage.types import Json, UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "captured_messages",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("to", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("fields", Json, nullable=False),
        sa.Column("source", Json, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_captured_messages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_captured_messages")),
        sa.UniqueConstraint("id", name=op.f("uq_captured_messages_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("captured_messages", schema=None) as batch_op:
        batch_op.create_index("ix_captured_workspace", ["workspace_id", "seq"], unique=False)

    op.create_table(
        "channel_configs",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_channel_configs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "channel", name=op.f("pk_channel_configs")),
    )
    op.create_table(
        "document_versions",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", Json, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_document_versions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "kind", "name", "version", name=op.f("pk_document_versions")
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=15), nullable=False),
        sa.Column("subscription_group", sa.String(length=200), nullable=True),
        sa.Column("source", Json, nullable=False),
        sa.Column("context", Json, nullable=False),
        sa.Column("event", Json, nullable=True),
        sa.Column("row", Json, nullable=True),
        sa.Column("throttle_key", sa.String(length=200), nullable=True),
        sa.Column("throttle_rate", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("provider", sa.String(length=50), nullable=True),
        sa.Column("provider_message_id", sa.String(length=300), nullable=True),
        sa.Column("sent_to", sa.String(length=320), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_outbox_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_outbox_profile", ["workspace_id", "profile_id"], unique=False)

    op.create_table(
        "send_ledger",
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("category", sa.String(length=15), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_send_ledger_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_send_ledger")),
    )
    with op.batch_alter_table("send_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_send_ledger_profile", ["workspace_id", "profile_id", "sent_at"], unique=False
        )

    op.create_table(
        "suppressions",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_suppressions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "channel", "address_hash", name=op.f("pk_suppressions")
        ),
    )
    op.create_table(
        "workspace_secrets",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_secrets_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_secrets")),
    )
    # Earlier documents get their current version on record.
    op.execute(
        "INSERT INTO document_versions (workspace_id, kind, name, version, spec, created_at) "
        "SELECT workspace_id, kind, name, version, spec, updated_at FROM documents"
    )


def downgrade() -> None:
    op.drop_table("workspace_secrets")
    op.drop_table("suppressions")
    with op.batch_alter_table("send_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_send_ledger_profile")

    op.drop_table("send_ledger")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_profile")
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    op.drop_table("document_versions")
    op.drop_table("channel_configs")
    with op.batch_alter_table("captured_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_captured_workspace")

    op.drop_table("captured_messages")
