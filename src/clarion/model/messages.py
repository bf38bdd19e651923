"""Message intents: what every sender hands to the delivery pipeline.

A `MessageIntent` names a recipient (a profile, an address, or both), a
channel, a template, a category and its source. Its idempotency key is derived
from the source alone (plus the recipient), so that a journey looping through a
node (the visit counter), a canvas sending one message per booking (the row
key) and a retried campaign batch neither collide nor duplicate. The key is the
message id, the provider's idempotency key and the email Message-ID.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clarion.model.outcomes import SourceKind


class Category(StrEnum):
    """Marketing messages need consent and obey caps and quiet hours;
    transactional ones skip only hard suppression."""

    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


@dataclass(frozen=True, slots=True)
class MessageSource:
    """Where a message comes from, precisely enough to recognise a retry."""

    kind: SourceKind
    id: str
    name: str = ""
    version: int | None = None
    run: str = ""
    """The journey instance, campaign run, API request or canvas run."""
    node: str = ""
    """The journey node or canvas activity."""
    visit: int = 0
    """How many times the instance has passed this node before (loops)."""
    row_key: str = ""
    """The row of an orchestrated campaign's working set (one message per booking)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "run": self.run,
            "node": self.node,
            "visit": self.visit,
            "row_key": self.row_key,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageSource:
        return cls(
            kind=SourceKind(data["kind"]),
            id=data["id"],
            name=data.get("name", ""),
            version=data.get("version"),
            run=data.get("run", ""),
            node=data.get("node", ""),
            visit=int(data.get("visit", 0)),
            row_key=data.get("row_key", ""),
        )


@dataclass(frozen=True, slots=True)
class MessageIntent:
    """A message some approach wants sent; the pipeline decides whether and when."""

    workspace_id: str
    channel: str
    template: str
    source: MessageSource
    profile_id: str | None = None
    address: str | None = None
    """An explicit recipient address (an API call's email, a test send)."""
    category: Category = Category.MARKETING
    template_version: int | None = None
    """Pinned by journeys and campaigns when published; None means the latest."""
    subscription_group: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    """The API payload or journey context (`{{ context.* }}`)."""
    event: dict[str, Any] | None = None
    """The triggering event (`{{ event.* }}`)."""
    row: dict[str, Any] | None = None
    """The orchestrated campaign row (`{{ row.* }}`)."""
    _message_id: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def message_id(self) -> str:
        """The idempotency key: the same source and recipient give the same id."""
        if self._message_id is None:  # a hash, asked for several times per message
            key = message_id_for(self.workspace_id, self.source, self.profile_id, self.address)
            object.__setattr__(self, "_message_id", key)
            return key
        return self._message_id

    def remember_id(self, message_id: str) -> None:
        """Take the id a caller already has: the outbox row's, or the one a run's
        snapshot stored for its recipient (`message_ids_in_order`, not the hash)."""
        object.__setattr__(self, "_message_id", message_id)


def message_id_for(
    workspace_id: str, source: MessageSource, profile_id: str | None, address: str | None
) -> str:
    """`msg_` and 32 hex digits of SHA-256 over the workspace, source and recipient."""
    parts = (
        workspace_id,
        source.kind.value,
        source.id,
        source.run,
        source.node,
        str(source.visit),
        source.row_key,
        profile_id or "",
        address or "",
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"msg_{digest[:32]}"


def message_ids_in_order(workspace_id: str, source: MessageSource, count: int) -> list[str]:
    """`msg_` and 32 hex digits for the `count` recipients of one batch source (a
    campaign run's snapshot), in order: 20 digits of SHA-256 over the workspace and
    source, then the position. Stored with the snapshot, they are as stable as
    `message_id_for`'s; unlike hashes per recipient, a run's ids follow each other, so
    the indexes on message ids (outbox, outcome events, captured messages) take each
    chunk's new entries on a few neighbouring pages rather than one page per message."""
    parts = (workspace_id, source.kind.value, source.id, source.run, source.node, "ordered")
    prefix = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]
    return [f"msg_{prefix}{position:012x}" for position in range(count)]


@dataclass(slots=True)
class QueuedMessage:
    """An intent in the outbox, with its delivery state."""

    intent: MessageIntent
    status: str
    attempts: int
    due_at_us: int
    reason: str | None = None
    throttle_key: str | None = None
    throttle_rate: float | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    sent_to: str | None = None
    stored_id: str | None = None

    @property
    def id(self) -> str:
        return self.stored_id or self.intent.message_id


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """An email ready for the wire; `message_id` doubles as the Message-ID."""

    message_id: str
    sender: str
    to: str
    subject: str
    html: str | None
    text: str
    reply_to: str | None = None
    preheader: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post."""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A rendered message of any channel, as handed to a provider."""

    message_id: str
    workspace_id: str
    channel: str
    to: str
    fields: dict[str, Any]
    """The channel's rendered fields (subject/html/text, body, title, payload, ...)."""
    email: RenderedEmail | None = None
    source: dict[str, Any] = field(default_factory=dict)
    profile_id: str | None = None
