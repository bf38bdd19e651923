"""The storage interfaces engines program against.

A `Database` opens transactions; a transaction (`Tx`) exposes one small
repository per concern. Everything done through one `Tx` commits or rolls back
together: this is how a consumer commits its own writes with its cursor, and how
state, timers and outbox rows caused by one input land in ONE transaction.

Concrete backends live in `clarion.storage.sql`; only the composition roots
(`api`, `cli`, `web`) import them.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Container, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from clarion.model.consent import (
    ConsentChange,
    ConsentState,
    GroupDefault,
    Status,
    SubscriptionGroup,
)
from clarion.model.documents import Ref, StoredDocument
from clarion.model.events import CALL_TYPES, LoggedEvent, NewEvent
from clarion.model.messages import MessageIntent, QueuedMessage, RenderedMessage
from clarion.model.profiles import Identity, ProfileRecord
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import ApiKey, Workspace
from clarion.storage.campaigns import CampaignRepo
from clarion.storage.canvases import CanvasRepo


@dataclass(frozen=True, slots=True)
class Page:
    """Paging arguments: at most `limit` items after the item with id `after`."""

    limit: int = 50
    after: str | None = None


class WorkspaceRepo(Protocol):
    """Workspaces (tenants)."""

    def create(self, name: str, now: datetime) -> Workspace: ...

    def get(self, workspace_id: str) -> Workspace | None: ...

    def list(self, page: Page) -> builtins.list[Workspace]: ...

    def settings(self, workspace_id: str) -> dict[str, Any]: ...

    def set_settings(self, workspace_id: str, settings: dict[str, Any]) -> None: ...


class KeyRepo(Protocol):
    """API keys: stored as lookup prefix + SHA-256 of the token, never the token."""

    def insert(
        self,
        workspace_id: str,
        *,
        kind: KeyKind,
        role: Role | None,
        name: str,
        prefix: str,
        token_sha256: str,
        now: datetime,
    ) -> ApiKey: ...

    def find_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        """The key with this prefix and its stored SHA-256, revoked or not."""
        ...

    def get(self, workspace_id: str, key_id: str) -> ApiKey | None: ...

    def list(self, workspace_id: str, page: Page) -> builtins.list[ApiKey]: ...

    def revoke(self, workspace_id: str, key_id: str, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class Appended:
    """The outcome of one event of an append: its sequence, or None if a duplicate."""

    message_id: str
    seq: int | None


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What audiences read of one profile: traits, timezone and (when asked) identities."""

    id: str
    traits: dict[str, Any]
    timezone: str | None
    identities: list[tuple[str, str]]


# Not frozen, like `LoggedEvent` (read-only by convention; one per track loaded).
@dataclass(slots=True)
class EventFacts:
    """What conditions on past events read of one `track` event (no payload: cheap to load)."""

    profile_id: str
    event: str
    timestamp_us: int
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """The events a consumer reads: those of these `type`s, of these `event` names, or
    with an `event` name starting with one of `prefixes`, except those named in `skip`.
    Others are skipped."""

    types: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    skip: frozenset[str] = frozenset()

    @classmethod
    def nothing(cls) -> EventFilter:
        """The filter that lets no event through (the cursor still moves)."""
        return cls()

    @classmethod
    def all_but(cls, *names: str) -> EventFilter:
        """Every event except those with these names."""
        return cls(types=CALL_TYPES, skip=frozenset(names))

    def matches(self, event: LoggedEvent) -> bool:
        """Whether the filter lets this event through (what a filtered poll returns)."""
        name = event.event
        if name is not None and name in self.skip:
            return False
        return (
            event.type in self.types
            or name in self.names
            or (name is not None and name.startswith(self.prefixes))
        )


@dataclass(frozen=True, slots=True)
class ConsumerBatch:
    """Events handed to a consumer, with what is needed to advance its cursor.

    `horizon_us` is the time the poll began; `xmin` and `bound` describe which
    appends could still be running then (see `clarion.storage.sql.events`).
    """

    consumer: str
    partition: int
    events: list[LoggedEvent]
    caught_up: bool
    horizon_us: int
    xmin: int
    bound: int
    position: tuple[int, int] | None = None
    """Where the cursor moves when it is not the last event's position: a filtered poll
    that is caught up moves past the events it skipped."""

    def __iter__(self) -> Iterator[LoggedEvent]:
        return iter(self.events)


class EventLog(Protocol):
    """The append-only event log and the cursors of its consumers."""

    def append(
        self, workspace_id: str, events: Sequence[NewEvent], now: datetime, *, seqs: bool = True
    ) -> builtins.list[Appended]:
        """Append events durably (with the transaction), skipping duplicate message ids.

        Returns each event's position (None for a duplicate); a caller that does not
        need them passes `seqs=False`, which returns [] and saves reading them back.
        """
        ...

    def poll(
        self,
        consumer: str,
        limit: int,
        now: datetime,
        partition: int = 0,
        after: str | None = None,
        reads: EventFilter | None = None,
    ) -> ConsumerBatch:
        """The next events after the consumer's cursor that can no longer be overtaken.

        With `after`, only events that consumer has already processed (a later
        stage sees only events the identity stage has stamped). With `reads`, only
        the events it lets through; the cursor still moves past the others. Locks
        the consumer's cursor for the rest of the transaction.
        """
        ...

    def lock(self, consumer: str, partition: int = 0) -> None:
        """Hold a consumer's cursor for this transaction (serialises with that consumer)."""
        ...

    def stamp(self, stamps: Sequence[tuple[int, str]]) -> None:
        """Set the profile id of events, as (seq, profile id) pairs."""
        ...

    def drop(self, seqs: Sequence[int]) -> None:
        """Delete events (those of erased people that arrived after the erasure)."""
        ...

    def for_profile(
        self, workspace_id: str, profile_id: str, limit: int, before_seq: int | None = None
    ) -> builtins.list[LoggedEvent]:
        """A profile's events, newest first."""
        ...

    def advance(self, batch: ConsumerBatch) -> None:
        """Move the cursor past `batch` (in the same transaction as the consumer's writes)."""
        ...

    def worth_advancing(self, batch: ConsumerBatch) -> bool:
        """Whether moving the cursor past `batch`, an empty poll of this transaction,
        is worth a write: it passes at least `SKIPPED_LAG` events or moves the watermark
        by a step. A cursor left behind polls the skipped events again (and skips them)."""
        ...

    def named(
        self, workspace_id: str, profile_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, builtins.list[LoggedEvent]]:
        """The events of these names of several profiles, oldest first, per profile."""
        ...

    def tracks(
        self, workspace_id: str, profile_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, builtins.list[EventFacts]]:
        """The `track` events of these names of several profiles, oldest first, per profile."""
        ...

    def watermark(self, consumer: str, partition: int = 0) -> int | None:
        """Every event received before this instant (µs) has been processed, or None."""
        ...

    def position(self, consumer: str, partition: int = 0) -> tuple[int, int]:
        """The consumer's cursor: the (txid, seq) of the last event it processed."""
        ...


class DocumentRepo(Protocol):
    """Applied definition documents and the references between them."""

    def get(self, workspace_id: str, kind: str, name: str) -> StoredDocument | None: ...

    def get_by_id(self, workspace_id: str, doc_id: str) -> StoredDocument | None: ...

    def list(
        self, workspace_id: str, kind: str | None, page: Page
    ) -> builtins.list[StoredDocument]: ...

    def any_of_kind(self, kind: str) -> bool:
        """Whether any workspace has a document of `kind` (consumers with nothing to do
        anywhere read nothing from the log)."""
        ...

    def stamps(self, workspace_id: str, kind: str) -> dict[str, tuple[str, int]]:
        """Name -> (id, version) of a workspace's documents of `kind`: what changes when
        one is created, changed, deleted or deleted and created again."""
        ...

    def put(
        self, workspace_id: str, kind: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        """Create or update; returns the document and `created`, `updated` or `unchanged`."""
        ...

    def delete(self, workspace_id: str, kind: str, name: str) -> bool: ...

    def version(
        self, workspace_id: str, kind: str, name: str, version: int
    ) -> StoredDocument | None:
        """A past (or the current) version of a document."""
        ...

    def set_refs(self, workspace_id: str, source: Ref, targets: Sequence[Ref]) -> None:
        """Replace the references that `source` makes."""
        ...

    def referrers(self, workspace_id: str, target: Ref) -> builtins.list[Ref]:
        """The documents that refer to `target`."""
        ...


class ProfileRepo(Protocol):
    """Profiles and their identities."""

    def owners(self, workspace_id: str, identities: Sequence[Identity]) -> dict[Identity, str]:
        """The profile holding each of these identities (absent ones are left out)."""
        ...

    def load(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[str, ProfileRecord]:
        """Profiles with their identities."""
        ...

    def get(self, workspace_id: str, profile_id: str) -> ProfileRecord | None: ...

    def list(self, workspace_id: str, page: Page) -> builtins.list[ProfileRecord]: ...

    def insert(self, records: Sequence[ProfileRecord]) -> None: ...

    def update(self, records: Sequence[ProfileRecord]) -> None:
        """Store traits, trait times, time zone, locale and updated time."""
        ...

    def delete(self, workspace_id: str, profile_ids: Sequence[str]) -> None: ...

    def assign(
        self, workspace_id: str, owners: Sequence[tuple[Identity, str]], now: datetime
    ) -> None:
        """Give each identity to a profile (creating or moving it)."""
        ...

    def record_merge(
        self, workspace_id: str, merged_id: str, survivor_id: str, reason: str, now: datetime
    ) -> None:
        """Point a merged-away profile (and its events and consent) at the survivor."""
        ...

    def survivor(self, workspace_id: str, profile_id: str) -> str | None:
        """The profile that absorbed `profile_id`, if it was merged away."""
        ...

    def merged_away(self, workspace_id: str, profile_ids: Sequence[str]) -> set[str]:
        """Those of `profile_ids` that were merged into another profile."""
        ...

    def refresh_statistics(self) -> None:
        """Let the query planner see how large profiles and identities have grown."""
        ...


class ConsentRepo(Protocol):
    """Subscription groups and consent states, per profile and per address."""

    def groups(self, workspace_id: str) -> builtins.list[SubscriptionGroup]: ...

    def group(self, workspace_id: str, name: str) -> SubscriptionGroup | None: ...

    def put_group(
        self,
        workspace_id: str,
        name: str,
        channel: str,
        default: GroupDefault,
        description: str,
        now: datetime,
    ) -> SubscriptionGroup: ...

    def delete_group(self, workspace_id: str, name: str) -> bool: ...

    def profile_states(self, workspace_id: str, profile_id: str) -> builtins.list[ConsentState]: ...

    def address_states(
        self, workspace_id: str, channel: str, address_hash: str
    ) -> builtins.list[ConsentState]: ...

    def profile_states_many(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> dict[str, builtins.list[ConsentState]]: ...

    def address_states_many(
        self, workspace_id: str, channel: str, address_hashes: Sequence[str]
    ) -> dict[str, builtins.list[ConsentState]]: ...

    def set_profile_state(
        self,
        workspace_id: str,
        profile_id: str,
        channel: str,
        group: str,
        status: Status,
        source: str,
        now: datetime,
    ) -> None: ...

    def set_address_state(
        self,
        workspace_id: str,
        channel: str,
        address_hash: str,
        address: str | None,
        group: str,
        status: Status,
        source: str,
        now: datetime,
    ) -> None: ...

    def history(
        self, workspace_id: str, profile_id: str, page: Page
    ) -> builtins.list[ConsentChange]: ...

    def forget_address(self, workspace_id: str, channel: str, address_hash: str) -> None:
        """Keep an address's states only as its hash (clear the address itself)."""
        ...


class TombstoneRepo(Protocol):
    """Hashed identities of erased people."""

    def add(self, workspace_id: str, hashes: Sequence[str], now: datetime) -> None: ...

    def any(self, workspace_id: str) -> bool:
        """Whether anyone was ever erased in the workspace."""
        ...

    def matching(self, workspace_id: str, hashes: Sequence[str]) -> set[str]:
        """Which of these hashes are tombstoned."""
        ...

    def count_dropped(self, workspace_id: str, counts: dict[str, int]) -> None: ...

    def dropped(self, workspace_id: str) -> int:
        """Events dropped so far because they named an erased person."""
        ...

    def audit(
        self,
        workspace_id: str,
        subject_hash: str,
        key_id: str | None,
        rows: dict[str, int],
        now: datetime,
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class CapturedMessage:
    """A message the capture provider kept instead of sending."""

    id: str
    seq: int
    profile_id: str | None
    channel: str
    to: str
    subject: str | None
    html: str | None
    text: str | None
    body: str | None
    fields: dict[str, Any]
    source: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Suppression:
    """An address that must not be sent to (hard bounce, complaint, manual, invalid)."""

    channel: str
    address_hash: str
    address: str | None
    reason: str
    created_at: datetime


class ClaimedBatch(Protocol):
    """The messages one claim took, read as they are needed: parsing them need not hold
    the write transaction the claim ran in."""

    def __len__(self) -> int: ...

    def workspaces(self) -> builtins.list[str]:
        """The workspaces the claimed messages belong to, each once."""
        ...

    def messages(self, workspace_id: str) -> builtins.list[QueuedMessage]:
        """One workspace's claimed messages, the longest due first."""
        ...


class OutboxRepo(Protocol):
    """Message intents waiting for, or done with, delivery."""

    def enqueue(
        self,
        intents: Sequence[MessageIntent],
        now: datetime,
        *,
        due_at: datetime | None = None,
        throttle_key: str | None = None,
        throttle_rate: float | None = None,
        lease_seconds: float | None = None,
    ) -> builtins.list[str]:
        """Queue intents; returns the ids that were new (a repeated id is left alone).
        With `lease_seconds` they are queued already claimed (`sending`, one attempt,
        leased for that long) by a dispatcher of this process, which is handed them."""
        ...

    def claim(
        self, limit: int, now: datetime, lease_seconds: float
    ) -> builtins.list[QueuedMessage]:
        """Take up to `limit` due messages (and those whose lease ran out), leased for
        `lease_seconds`, the longest due first."""
        ...

    def claim_batch(self, limit: int, now: datetime, lease_seconds: float) -> ClaimedBatch:
        """`claim`, with the messages parsed when asked for (after the transaction)."""
        ...

    def anything_due(self, now: datetime) -> bool:
        """Whether a claim at `now` would find a message (a read: no write lock)."""
        ...

    def finish(
        self,
        message_id: str,
        status: str,
        now: datetime,
        *,
        reason: str | None = None,
        provider: str | None = None,
        provider_message_id: str | None = None,
        sent_to: str | None = None,
    ) -> None: ...

    def finish_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Final states of many messages at once (see `finish`)."""
        ...

    def defer(
        self, message_id: str, until: datetime, now: datetime, reason: str, *, retry: bool = False
    ) -> None: ...

    def get(self, workspace_id: str, message_id: str) -> QueuedMessage | None: ...

    def list(
        self, workspace_id: str, page: Page, *, status: str | None = None
    ) -> builtins.list[QueuedMessage]: ...

    def counts(self, workspace_id: str) -> dict[str, int]: ...


class CaptureRepo(Protocol):
    """What the capture provider stored."""

    def store(self, messages: Sequence[RenderedMessage], now: datetime) -> None: ...

    def list(
        self,
        workspace_id: str,
        page: Page,
        *,
        profile_id: str | None = None,
        channel: str | None = None,
        source: str | None = None,
    ) -> builtins.list[CapturedMessage]: ...


class SuppressionRepo(Protocol):
    """Suppressed addresses, by hash."""

    def add(
        self,
        workspace_id: str,
        channel: str,
        address_hash: str,
        address: str | None,
        reason: str,
        now: datetime,
    ) -> None: ...

    def remove(self, workspace_id: str, channel: str, address_hash: str) -> bool: ...

    def matching(
        self, workspace_id: str, channel: str, hashes: Sequence[str]
    ) -> dict[str, str]: ...

    def list(self, workspace_id: str, page: Page) -> builtins.list[Suppression]: ...

    def forget_address(self, workspace_id: str, address_hash: str) -> None: ...


class LedgerRepo(Protocol):
    """Sends counted against frequency caps."""

    def lock_profiles(self, workspace_id: str, profile_ids: Sequence[str]) -> None: ...

    def since(
        self, workspace_id: str, profile_ids: Sequence[str], since_us: int
    ) -> builtins.list[tuple[str, str, str, int]]: ...

    def count(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def uncount(self, message_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class JourneyState:
    """A journey's lifecycle: status, live version, pinned template versions."""

    workspace_id: str
    journey: str
    status: str
    live_version: int | None
    pinned: dict[str, Any]
    published_at: datetime | None


class JourneyRepo(Protocol):
    """Journey lifecycle, instances (as JSON state), waits, timers and statistics."""

    def state(self, workspace_id: str, journey: str) -> JourneyState | None: ...

    def set_state(
        self,
        workspace_id: str,
        journey: str,
        status: str,
        live_version: int | None,
        pinned: dict[str, Any],
        now: datetime,
        *,
        published: bool = False,
    ) -> None: ...

    def running(self, workspace_id: str) -> builtins.list[JourneyState]: ...

    def any_running(self) -> bool:
        """Whether any workspace has a journey whose instances still move (see `running`)."""
        ...

    def instances_of(
        self, workspace_id: str, profile_id: str, *, active: bool = True
    ) -> builtins.list[dict[str, Any]]: ...

    def instances(self, instance_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def active_of(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> builtins.list[dict[str, Any]]: ...

    def last_entries(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> dict[tuple[str, str], int]: ...

    def awaited(self, workspace_id: str, profile_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(profile, event name) pairs that waiting instances of these profiles react to."""
        ...

    def refresh_statistics(self) -> None:
        """Let the query planner see how large instances and waits have grown."""
        ...

    def of_journey(
        self,
        workspace_id: str,
        journey: str,
        *,
        status: Sequence[str],
        node: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[dict[str, Any]]: ...

    def last_entry(
        self, workspace_id: str, journey: str, profile_id: str
    ) -> tuple[int, bool] | None: ...

    def count_instances(self, workspace_id: str, journey: str, *, active: bool) -> int: ...

    def waiting_counts(self, workspace_id: str, journey: str) -> dict[tuple[int, str], int]: ...

    def save(self, rows: Sequence[dict[str, Any]], now_us: int) -> None: ...

    def schedule(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def claim_due(
        self, kinds: Sequence[str], limit: int, before_us: int, now_us: int, lease_us: int
    ) -> builtins.list[dict[str, Any]]: ...

    def move_timers(self, instance_id: str, profile_id: str) -> None: ...

    def delete_timer(self, instance_id: str, key: str) -> None: ...

    def timers_of(self, instance_id: str) -> builtins.list[dict[str, Any]]: ...

    def count(self, rows: Sequence[tuple[str, str, int, str, str, int]]) -> None: ...

    def stats(
        self, workspace_id: str, journey: str
    ) -> builtins.list[tuple[int, str, str, int]]: ...


@dataclass(frozen=True, slots=True)
class AudienceStatus:
    """Where an audience's backfill stands, and its member count."""

    audience: str
    status: str
    version: int
    count: int
    error: str | None
    changed_at: datetime


class AudienceRepo(Protocol):
    """Audience memberships, re-evaluation timers and backfill status."""

    def memberships(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[str, set[str]]: ...

    def members(self, workspace_id: str, audience: str, page: Page) -> builtins.list[str]: ...

    def all_members(self, workspace_id: str, audience: str) -> set[str]: ...

    def count(self, workspace_id: str, audience: str) -> int: ...

    def add(
        self, workspace_id: str, audience: str, profile_ids: Sequence[str], since_us: int
    ) -> None: ...

    def remove(self, workspace_id: str, audience: str, profile_ids: Sequence[str]) -> None: ...

    def change(
        self,
        workspace_id: str,
        entered: Sequence[tuple[str, str]],
        exited: Sequence[tuple[str, str]],
        since_us: int,
    ) -> None:
        """Add the `(audience, profile)` pairs `entered` and remove `exited`, in bulk."""
        ...

    def drop(self, workspace_id: str, audience: str) -> None: ...

    def schedule(self, rows: Sequence[tuple[str, str, str, int]]) -> None: ...

    def cancel(self, rows: Sequence[tuple[str, str, str]]) -> None: ...

    def timers(
        self, workspace_id: str, profile_ids: Sequence[str]
    ) -> dict[tuple[str, str], int]: ...

    def state(
        self,
        workspace_id: str,
        pairs: Sequence[tuple[str, str]],
        timed: Container[str] | None = None,
    ) -> tuple[set[tuple[str, str]], dict[tuple[str, str], int]]:
        """Of these `(audience, profile)` pairs: those that are memberships, and the due
        µs of those with a timer (exact pairs: each a primary-key lookup). Timers are
        looked up only for audiences in `timed` (all when it is None): those whose
        membership can change with time alone."""
        ...

    def refresh_statistics(self) -> None:
        """Let the planner see the current size of the tables real-time evaluation reads
        (memberships, timers, events: they grow fast from empty, and lookups planned on
        stale statistics scan)."""
        ...

    def facts(
        self, workspace_id: str, profile_ids: Sequence[str], identities: bool
    ) -> dict[str, ProfileFacts]:
        """What audiences read of these profiles (identities left empty unless asked for):
        lighter than `ProfileRepo.load`, for evaluating many profiles at once."""
        ...

    def take_due(self, limit: int, before_us: int) -> builtins.list[tuple[str, str, str]]: ...

    def status(self, workspace_id: str, audience: str) -> AudienceStatus | None: ...

    def set_status(
        self,
        workspace_id: str,
        audience: str,
        status: str,
        version: int,
        count: int,
        now: datetime,
        error: str | None = None,
    ) -> None: ...

    def pending(self, limit: int) -> builtins.list[tuple[str, str]]: ...


class Tx(Protocol):
    """One transaction, with a repository per concern."""

    @property
    def workspaces(self) -> WorkspaceRepo: ...

    @property
    def keys(self) -> KeyRepo: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def documents(self) -> DocumentRepo: ...

    @property
    def profiles(self) -> ProfileRepo: ...

    @property
    def consent(self) -> ConsentRepo: ...

    @property
    def tombstones(self) -> TombstoneRepo: ...

    @property
    def outbox(self) -> OutboxRepo: ...

    @property
    def journeys(self) -> JourneyRepo: ...

    @property
    def audiences(self) -> AudienceRepo: ...

    @property
    def captured(self) -> CaptureRepo: ...

    @property
    def suppressions(self) -> SuppressionRepo: ...

    @property
    def ledger(self) -> LedgerRepo: ...

    @property
    def campaigns(self) -> CampaignRepo: ...

    @property
    def canvases(self) -> CanvasRepo: ...

    def audience_members(
        self, workspace_id: str, definition: Any, now: datetime, resolver: Any
    ) -> builtins.list[str]:
        """The profile ids an audience definition selects now (SQL, in this transaction)."""
        ...

    def channel_configs(self, workspace_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
        """Per channel: (provider name, settings)."""
        ...

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this write transaction has committed (never if it rolls
        back), after its locks are released."""
        ...

    def set_channel_config(
        self,
        workspace_id: str,
        channel: str,
        provider: str,
        settings: dict[str, Any],
        now: datetime,
    ) -> None: ...

    def signing_key(self, workspace_id: str) -> str:
        """The workspace's HMAC key for tracking links (created on first use)."""
        ...

    def erase_profile(self, workspace_id: str, profile_id: str) -> dict[str, int]:
        """Run every erasure hook for one profile; rows erased per table."""
        ...


class Database(Protocol):
    """A storage backend: opens read and write transactions."""

    @property
    def dialect(self) -> str: ...

    def read(self) -> AbstractContextManager[Tx]: ...

    def write(self, durable: bool = True) -> AbstractContextManager[Tx]: ...

    def close(self) -> None: ...
