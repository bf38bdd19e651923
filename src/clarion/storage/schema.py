"""The relational schema, in SQLAlchemy Core.

Every table carries `workspace_id`, except three system tables: `workspaces`
itself, `consumer_cursors` (a consumer reads the whole log) and alembic's
version table. A column holding a profile id is marked with
`info={"profile_id": True}`; the erasure contract test checks each such table
has an erasure hook.

Event times are BIGINT microseconds since the epoch (UTC) so that SQLite,
PostgreSQL and DuckDB compare them identically; other times are `UtcDateTime`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clarion.storage.types import Json, UtcDateTime

# Small keyed tables are stored in their primary key's B-tree on SQLite (migration 0011).
WITHOUT_ROWID: dict[str, Any] = {"sqlite_with_rowid": False}

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _workspace(*, primary_key: bool = False) -> Column[str]:
    return Column(
        "workspace_id",
        String(40),
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("settings", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("kind", String(10), nullable=False),
    Column("role", String(10)),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("token_sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Index("ix_api_keys_workspace", "workspace_id", "id"),
)

events = Table(
    "events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    # The appending transaction's id on PostgreSQL (0 on SQLite): consumers read
    # in (txid, seq) order up to the oldest transaction still running, so an
    # event committed late can never fall behind a consumer's cursor.
    Column("txid", BigInteger, nullable=False),
    _workspace(),
    Column("message_id", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("event", String(200)),
    Column("user_id", String(200)),
    Column("anonymous_id", String(200)),
    Column("profile_id", String(40), info={"profile_id": True}),
    Column("properties", Json, nullable=False),
    Column("payload", Json, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("origin", String(20), nullable=False),
    UniqueConstraint("workspace_id", "message_id", name="uq_events_message"),
    # Only PostgreSQL reads by (txid, seq); on SQLite txid is 0 and seq is the rowid.
    Index("ix_events_position", "txid", "seq", info={"dialects": ("postgresql",)}),
    Index("ix_events_profile", "workspace_id", "profile_id", "timestamp"),
    sqlite_autoincrement=True,
)

consumer_cursors = Table(
    "consumer_cursors",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("txid", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    # Watermark: every event received before this instant (µs) is processed.
    Column("watermark", BigInteger, nullable=False),
    # A horizon waiting to become the watermark once all transactions that
    # were running when it was taken have finished (see storage/sql/events.py).
    Column("pending_at", BigInteger),
    Column("pending_bound", BigInteger),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("kind", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("workspace_id", "kind", "name", name="uq_documents_name"),
)

document_refs = Table(
    "document_refs",
    metadata,
    _workspace(primary_key=True),
    Column("from_kind", String(50), primary_key=True),
    Column("from_name", String(200), primary_key=True),
    Column("to_kind", String(50), primary_key=True),
    Column("to_name", String(200), primary_key=True),
    Index("ix_document_refs_target", "workspace_id", "to_kind", "to_name"),
)


# --- profiles, identities and consent (ingestion and identity) ---------------

profiles = Table(
    "profiles",
    metadata,
    Column("id", String(40), primary_key=True, info={"profile_id": True}),
    _workspace(),
    Column("traits", Json, nullable=False),
    # When each trait key was last set (µs), for last-writer-wins merges.
    Column("trait_times", Json, nullable=False),
    Column("timezone", String(64)),
    Column("locale", String(35)),
    Column("is_test", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_profiles_workspace", "workspace_id", "id"),
)

identities = Table(
    "identities",
    metadata,
    _workspace(primary_key=True),
    Column("namespace", String(50), primary_key=True),
    Column("value", String(300), primary_key=True),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_identities_profile", "workspace_id", "profile_id"),
    **WITHOUT_ROWID,
)

profile_merges = Table(
    "profile_merges",
    metadata,
    _workspace(primary_key=True),
    # A merged-away id points at the profile that absorbed it.
    Column("merged_id", String(40), primary_key=True, info={"profile_id": True}),
    Column("survivor_id", String(40), nullable=False, info={"profile_id": True}),
    Column("reason", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_profile_merges_survivor", "workspace_id", "survivor_id"),
)

subscription_groups = Table(
    "subscription_groups",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("name", String(200), nullable=False),
    Column("channel", String(30), nullable=False),
    # "opt_in": nobody is subscribed until they say so; "opt_out": everyone is
    # until they say otherwise.
    Column("default_status", String(10), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("workspace_id", "name", name="uq_subscription_groups_name"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    _workspace(primary_key=True),
    Column("profile_id", String(40), primary_key=True, info={"profile_id": True}),
    Column("channel", String(30), primary_key=True),
    # The subscription group's name, or "" for the whole channel.
    Column("group", String(200), primary_key=True),
    Column("status", String(15), nullable=False),
    Column("source", String(30), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    **WITHOUT_ROWID,
)

address_subscriptions = Table(
    "address_subscriptions",
    metadata,
    _workspace(primary_key=True),
    Column("channel", String(30), primary_key=True),
    # SHA-256 of the normalised address: what survives an erasure.
    Column("address_hash", String(64), primary_key=True),
    Column("group", String(200), primary_key=True),
    Column("address", String(320)),
    Column("status", String(15), nullable=False),
    Column("source", String(30), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    **WITHOUT_ROWID,
)

consent_history = Table(
    "consent_history",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("profile_id", String(40), info={"profile_id": True}),
    Column("address_hash", String(64)),
    Column("channel", String(30), nullable=False),
    Column("group", String(200), nullable=False),
    Column("status", String(15), nullable=False),
    Column("source", String(30), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_consent_history_profile", "workspace_id", "profile_id"),
)


# --- erasure ---------------------------------------------------------------

tombstones = Table(
    "tombstones",
    metadata,
    _workspace(primary_key=True),
    # SHA-256 of "workspace:namespace:value" of an erased identity: events for
    # it are dropped (and counted) so SDK retries do not recreate the person.
    Column("identity_hash", String(64), primary_key=True),
    Column("dropped_events", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    # An audit record without personal data: the profile id only as a hash.
    Column("subject_hash", String(64), nullable=False),
    Column("key_id", String(40)),
    Column("rows", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


# --- delivery ----------------------------------------------------------------

document_versions = Table(
    "document_versions",
    metadata,
    _workspace(primary_key=True),
    Column("kind", String(50), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

workspace_secrets = Table(
    "workspace_secrets",
    metadata,
    Column(
        "workspace_id",
        String(40),
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Signs tracking links and unsubscribe tokens (HMAC-SHA256).
    Column("signing_key", String(64), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    # The message id: the idempotency key derived from the source and recipient.
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("profile_id", String(40), info={"profile_id": True}),
    Column("address", String(320)),
    Column("channel", String(30), nullable=False),
    Column("template", String(200), nullable=False),
    Column("template_version", Integer),
    Column("category", String(15), nullable=False),
    Column("subscription_group", String(200)),
    Column("source", Json, nullable=False),
    Column("context", Json, nullable=False),
    Column("event", Json),
    Column("row", Json),
    Column("throttle_key", String(200)),
    Column("throttle_rate", Float),
    # pending -> sending -> sent | skipped | failed (pending again on a retry).
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger),
    Column("reason", String(300)),
    Column("provider", String(50)),
    Column("provider_message_id", String(300)),
    # The address the message actually went to (for bounces and complaints).
    Column("sent_to", String(320)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_outbox_due", "status", "due_at"),
    Index("ix_outbox_profile", "workspace_id", "profile_id"),
)

captured_messages = Table(
    "captured_messages",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(40), nullable=False, unique=True),
    _workspace(),
    Column("profile_id", String(40), info={"profile_id": True}),
    Column("channel", String(30), nullable=False),
    Column("to", String(320), nullable=False),
    Column("subject", Text),
    Column("html", Text),
    Column("text", Text),
    Column("body", Text),
    Column("fields", Json, nullable=False),
    Column("source", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_captured_workspace", "workspace_id", "seq"),
    sqlite_autoincrement=True,
)

suppressions = Table(
    "suppressions",
    metadata,
    _workspace(primary_key=True),
    # A channel, or "*" for every channel.
    Column("channel", String(30), primary_key=True),
    Column("address_hash", String(64), primary_key=True),
    Column("address", String(320)),
    Column("reason", String(30), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    **WITHOUT_ROWID,
)

send_ledger = Table(
    "send_ledger",
    metadata,
    # One row per message counted against frequency caps.
    Column("message_id", String(40), primary_key=True),
    _workspace(),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    Column("channel", String(30), nullable=False),
    Column("category", String(15), nullable=False),
    Column("sent_at", BigInteger, nullable=False),
    Index("ix_send_ledger_profile", "workspace_id", "profile_id", "sent_at"),
    **WITHOUT_ROWID,
)

channel_configs = Table(
    "channel_configs",
    metadata,
    _workspace(primary_key=True),
    Column("channel", String(30), primary_key=True),
    Column("provider", String(50), nullable=False),
    # Provider settings, secrets included: never listed back in clear.
    Column("settings", Json, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


# --- journeys --------------------------------------------------------------

journey_states = Table(
    "journey_states",
    metadata,
    _workspace(primary_key=True),
    Column("journey", String(200), primary_key=True),
    # draft -> live -> paused -> live ... -> stopped | closed
    Column("status", String(10), nullable=False),
    Column("live_version", Integer),
    # Template versions pinned when the live version was published.
    Column("pinned", Json, nullable=False),
    Column("published_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

journey_instances = Table(
    "journey_instances",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("journey", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    # active, waiting, completed, exited (the full state is in `state`).
    Column("status", String(10), nullable=False),
    Column("node", String(100)),
    Column("state", Json, nullable=False),
    Column("entered_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_journey_instances_profile", "workspace_id", "profile_id", "journey"),
    Index("ix_journey_instances_journey", "workspace_id", "journey", "status", "node"),
)

journey_waits = Table(
    "journey_waits",
    metadata,
    # Which waiting instances an event of a profile may concern (reactions).
    Column("instance_id", String(40), primary_key=True),
    Column("event", String(200), primary_key=True),
    _workspace(),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    Index("ix_journey_waits_profile", "workspace_id", "profile_id", "event"),
    **WITHOUT_ROWID,
)

journey_timers = Table(
    "journey_timers",
    metadata,
    Column("instance_id", String(40), primary_key=True),
    Column("key", String(200), primary_key=True),
    _workspace(),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    Column("due_at", BigInteger, nullable=False),
    # A timer, or an HTTP call of a custom action (its request in `payload`).
    Column("kind", String(10), nullable=False),
    Column("payload", Json),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", BigInteger),
    Index("ix_journey_timers_due", "due_at"),
)

journey_stats = Table(
    "journey_stats",
    metadata,
    _workspace(primary_key=True),
    Column("journey", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("node", String(100), primary_key=True),
    Column("counter", String(100), primary_key=True),
    Column("value", BigInteger, nullable=False),
)


# --- channels and inbound surfaces (issue 10) ------------------------------

surface_items = Table(
    "surface_items",
    metadata,
    # Content a message made eligible for one profile on one surface; the id is
    # the message id, so a resent message replaces its own item.
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    Column("channel", String(30), nullable=False),
    Column("surface", String(200), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("content", Json, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("max_impressions", Integer),
    Column("impressions", Integer, nullable=False),
    Column("last_seen_at", BigInteger),
    Column("read_at", BigInteger),
    Column("clicked_at", BigInteger),
    Column("dismissed_at", BigInteger),
    Index("ix_surface_items_profile", "workspace_id", "profile_id", "surface"),
)

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    # A browser's Web Push subscription; profiles hold it as the device token
    # `webpush:<id>`.
    _workspace(primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("profile_id", String(40), info={"profile_id": True}),
    Column("endpoint", Text, nullable=False),
    Column("p256dh", String(200), nullable=False),
    Column("auth", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_push_subscriptions_profile", "workspace_id", "profile_id"),
)

direct_mail_runs = Table(
    "direct_mail_runs",
    metadata,
    # One extract per campaign or canvas run: its files and row count.
    _workspace(primary_key=True),
    Column("run", String(200), primary_key=True),
    Column("csv_path", Text, nullable=False),
    Column("parquet_path", Text, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

direct_mail_rows = Table(
    "direct_mail_rows",
    metadata,
    Column("message_id", String(40), primary_key=True),
    _workspace(),
    Column("run", String(200), nullable=False),
    Column("profile_id", String(40), info={"profile_id": True}),
    Column("row", Json, nullable=False),
    Index("ix_direct_mail_rows_run", "workspace_id", "run"),
)


# --- campaigns ---------------------------------------------------------------

campaign_states = Table(
    "campaign_states",
    metadata,
    _workspace(primary_key=True),
    # The campaign document's id (stable across renames of nothing: names are keys).
    Column("campaign_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(10), nullable=False),
    # draft -> scheduled -> running -> completed; stopped at any time.
    Column("status", String(12), nullable=False),
    Column("version", Integer),
    # The definition activation pinned: spec, template version, channel.
    Column("pinned", Json, nullable=False),
    Column("anchor_at", UtcDateTime),
    Column("next_fire_at", BigInteger),
    Column("next_occurrence", Json),
    Column("activated_at", UtcDateTime),
    Column("stopped_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_campaign_states_due", "status", "next_fire_at"),
)

campaign_runs = Table(
    "campaign_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("campaign_id", String(40), nullable=False),
    Column("campaign_name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    # The occurrence's start instant (µs): one run per campaign and occurrence.
    Column("occurrence_at", BigInteger, nullable=False),
    Column("occurrence", Json, nullable=False),
    Column("settings", Json, nullable=False),
    Column("trigger", String(12), nullable=False),
    # pending -> snapshotting -> sending -> delivering -> completed | stopped | failed
    Column("status", String(12), nullable=False),
    Column("next_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger),
    Column("snapshot_at", UtcDateTime),
    Column("targeted", Integer, nullable=False),
    Column("excluded", Integer, nullable=False),
    Column("recipients", Integer, nullable=False),
    # Recipients queued so far: the positions below this are in the outbox.
    Column("queued", Integer, nullable=False),
    Column("skipped", Json, nullable=False),
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    UniqueConstraint("workspace_id", "campaign_id", "occurrence_at", name="uq_campaign_runs_once"),
    Index("ix_campaign_runs_due", "status", "next_at"),
    Index("ix_campaign_runs_campaign", "workspace_id", "campaign_id", "id"),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    # A run's audience snapshot, in send order.
    Column("run_id", String(40), primary_key=True),
    Column("position", Integer, primary_key=True),
    _workspace(),
    Column("profile_id", String(40), nullable=False, info={"profile_id": True}),
    Column("due_at", BigInteger, nullable=False),
    Column("message_id", String(40), nullable=False),
    Index("ix_campaign_recipients_profile", "workspace_id", "profile_id"),
    **WITHOUT_ROWID,
)

campaign_requests = Table(
    "campaign_requests",
    metadata,
    # API trigger calls by requestId: a retried call gets the first answer.
    _workspace(primary_key=True),
    Column("campaign_id", String(40), primary_key=True),
    Column("request_id", String(200), primary_key=True),
    Column("answer", Json),
    Column("created_at", UtcDateTime, nullable=False),
)

campaign_outcomes = Table(
    "campaign_outcomes",
    metadata,
    # Later outcomes of campaign messages (delivered, opened, clicked, ...), once each.
    Column("message_id", String(40), primary_key=True),
    Column("outcome", String(20), primary_key=True),
    _workspace(),
    Column("campaign_id", String(40), nullable=False),
    Column("run_id", String(40), nullable=False),
    Index("ix_campaign_outcomes_run", "workspace_id", "campaign_id", "run_id", "outcome"),
    **WITHOUT_ROWID,
)


# --- audiences -------------------------------------------------------------

audience_members = Table(
    "audience_members",
    metadata,
    _workspace(primary_key=True),
    Column("audience", String(200), primary_key=True),
    Column("profile_id", String(40), primary_key=True, info={"profile_id": True}),
    Column("since", BigInteger, nullable=False),
    Index("ix_audience_members_profile", "workspace_id", "profile_id"),
    **WITHOUT_ROWID,
)

audience_timers = Table(
    "audience_timers",
    metadata,
    # When a profile's membership may change through time alone (a window expiring).
    _workspace(primary_key=True),
    Column("audience", String(200), primary_key=True),
    Column("profile_id", String(40), primary_key=True, info={"profile_id": True}),
    Column("due_at", BigInteger, nullable=False),
    Index("ix_audience_timers_due", "due_at"),
    **WITHOUT_ROWID,
)

audience_status = Table(
    "audience_status",
    metadata,
    _workspace(primary_key=True),
    Column("audience", String(200), primary_key=True),
    # pending (a backfill is due), backfilling, ready, failed
    Column("status", String(12), nullable=False),
    Column("version", Integer, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("error", Text),
    Column("changed_at", UtcDateTime, nullable=False),
)


# --- orchestrated campaigns --------------------------------------------------

canvas_runs = Table(
    "canvas_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    _workspace(),
    Column("canvas_id", String(40), nullable=False),
    Column("canvas_name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    # calculate | run
    Column("mode", String(10), nullable=False),
    # pending -> computing -> sending -> completed | failed
    Column("status", String(12), nullable=False),
    # Counts, eligible counts, previews, work tables and send progress.
    Column("state", Json, nullable=False),
    Column("next_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger),
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("cleaned_at", UtcDateTime),
    Index("ix_canvas_runs_canvas", "workspace_id", "canvas_id", "id"),
    Index("ix_canvas_runs_due", "status", "next_at"),
)
