"""A profile's state in one journey: where it is, what it waits for, what it carries.

Pure data with a JSON form: the runtime stores it, replay tests record it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

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

    @property
    def done(self) -> bool:
        return self.status in ("completed", "exited")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Instance:
        waiting = data.get("waiting")
        return cls(**{**data, "waiting": Waiting(**waiting) if waiting else None})
