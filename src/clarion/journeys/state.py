"""A profile's state in one journey: where it is, what it waits for, what it carries.

Pure data with a JSON form: the runtime stores it, replay tests record it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from clarion.model.messages import MessageSource
from clarion.model.outcomes import SourceKind

Status = Literal["active", "waiting", "completed", "exited"]


@dataclass
class Waiting:
    """What a waiting profile waits for."""

    kind: Literal["timer", "events", "http", "held"]
    node: str
    key: str
    """Unique per wait (node and visit): a timer or result of an older wait is ignored."""
    due_us: int | None = None
    """When the wait ends (a wait node) or times out (a reaction)."""
    events: list[str] = field(default_factory=list)
    """Event names that may end it (reactions)."""


@dataclass
class Instance:
    """One profile's walk through one version of a journey."""

    id: str
    workspace_id: str
    journey_id: str
    journey: str
    version: int
    profile_id: str
    entered_us: int
    deadline_us: int
    node: str | None = None
    status: Status = "active"
    context: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    sent: dict[str, str] = field(default_factory=dict)
    """Message node -> the id of the message it sent last (for outcome reactions)."""
    waiting: Waiting | None = None
    history: list[list[Any]] = field(default_factory=list)
    """[node, at (µs), note] per step, for `GET /v1/profiles/{id}/journeys`."""
    exit_reason: str | None = None
    timeout_scheduled: bool = False
    """Whether the global timeout's timer exists: it is scheduled once a wait may
    outlast the deadline (a wait that ends before it wakes the walk first)."""

    @property
    def done(self) -> bool:
        return self.status in ("completed", "exited")

    def message_source(self, node: str, visit: int) -> MessageSource:
        """Where a message sent at `node` on its `visit`-th visit comes from (its id's seed)."""
        return MessageSource(
            SourceKind.JOURNEY,
            self.journey_id,
            self.journey,
            self.version,
            self.id,
            node,
            visit,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (a plain copy; cheaper than `dataclasses.asdict`)."""
        waiting = self.waiting
        return {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "journey_id": self.journey_id,
            "journey": self.journey,
            "version": self.version,
            "profile_id": self.profile_id,
            "entered_us": self.entered_us,
            "deadline_us": self.deadline_us,
            "node": self.node,
            "status": self.status,
            "context": self.context,
            "visits": dict(self.visits),
            "sent": dict(self.sent),
            "waiting": None
            if waiting is None
            else {
                "kind": waiting.kind,
                "node": waiting.node,
                "key": waiting.key,
                "due_us": waiting.due_us,
                "events": list(waiting.events),
            },
            "history": [list(h) for h in self.history],
            "exit_reason": self.exit_reason,
            "timeout_scheduled": self.timeout_scheduled,
        }

    def clone(self) -> Instance:
        """A copy a step may change without touching the original."""
        context = dict(self.context)
        if isinstance(context.get("steps"), dict):
            context["steps"] = dict(context["steps"])
        waiting = self.waiting
        return Instance(
            self.id,
            self.workspace_id,
            self.journey_id,
            self.journey,
            self.version,
            self.profile_id,
            self.entered_us,
            self.deadline_us,
            self.node,
            self.status,
            context,
            dict(self.visits),
            dict(self.sent),
            None
            if waiting is None
            else Waiting(
                waiting.kind, waiting.node, waiting.key, waiting.due_us, list(waiting.events)
            ),
            list(self.history),
            self.exit_reason,
            self.timeout_scheduled,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Instance:
        waiting = data.get("waiting")
        return cls(
            **{
                **data,
                "waiting": Waiting(**waiting) if waiting else None,
                # Walks stored before the field existed got their timeout at entry.
                "timeout_scheduled": data.get("timeout_scheduled", True),
            }
        )
