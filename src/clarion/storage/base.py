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
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from clarion.model.documents import Ref, StoredDocument
from clarion.model.events import LoggedEvent, NewEvent
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import ApiKey, Workspace


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

    def __iter__(self) -> Iterator[LoggedEvent]:
        return iter(self.events)


class EventLog(Protocol):
    """The append-only event log and the cursors of its consumers."""

    def append(
        self, workspace_id: str, events: Sequence[NewEvent], now: datetime
    ) -> builtins.list[Appended]:
        """Append events durably (with the transaction), skipping duplicate message ids."""
        ...

    def poll(self, consumer: str, limit: int, now: datetime, partition: int = 0) -> ConsumerBatch:
        """The next events after the consumer's cursor that can no longer be overtaken.

        Locks the consumer's cursor for the rest of the transaction.
        """
        ...

    def advance(self, batch: ConsumerBatch) -> None:
        """Move the cursor past `batch` (in the same transaction as the consumer's writes)."""
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

    def put(
        self, workspace_id: str, kind: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        """Create or update; returns the document and `created`, `updated` or `unchanged`."""
        ...

    def delete(self, workspace_id: str, kind: str, name: str) -> bool: ...

    def set_refs(self, workspace_id: str, source: Ref, targets: Sequence[Ref]) -> None:
        """Replace the references that `source` makes."""
        ...

    def referrers(self, workspace_id: str, target: Ref) -> builtins.list[Ref]:
        """The documents that refer to `target`."""
        ...


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

    def erase_profile(self, workspace_id: str, profile_id: str) -> dict[str, int]:
        """Run every erasure hook for one profile; rows erased per table."""
        ...


class Database(Protocol):
    """A storage backend: opens read and write transactions."""

    @property
    def dialect(self) -> str: ...

    def read(self) -> AbstractContextManager[Tx]: ...

    def write(self) -> AbstractContextManager[Tx]: ...

    def close(self) -> None: ...
