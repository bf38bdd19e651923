"""What the in-memory evaluator sees of one profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clarion.audiences.semantics import TRACK
from clarion.model.events import LoggedEvent


# Not frozen, like `LoggedEvent` (read-only by convention; one per event loaded).
@dataclass(slots=True)
class EventView:
    """One event of the profile: its type, name, corrected time (µs) and properties."""

    type: str
    event: str | None
    timestamp: int
    properties: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, logged: LoggedEvent) -> EventView:
        """The view of a logged event."""
        return cls(logged.type, logged.event, logged.timestamp_us, logged.properties)


@dataclass(frozen=True, slots=True)
class AddressState:
    """An explicit consent state of an address (`group` "" for the whole channel)."""

    channel: str
    group: str
    address: str
    status: str


@dataclass(frozen=True, slots=True)
class ProfileView:
    """One profile: traits, identities, consent and its events (stamped with its id).

    `subscriptions` maps `(channel, group)` to the profile's explicit status
    (`group` "" for the whole channel); `address_states` may hold states of any
    address: only those of the profile's own addresses count. A journey's condition
    also sees the journey's `context` and its `default_timezone` (a plain audience
    has neither).
    """

    id: str
    traits: Mapping[str, Any] = field(default_factory=dict)
    identities: Sequence[tuple[str, str]] = ()
    subscriptions: Mapping[tuple[str, str], str] = field(default_factory=dict)
    address_states: Sequence[AddressState] = ()
    events: Sequence[EventView] = ()
    timezone: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    default_timezone: str | None = None
    tracks: Mapping[str, Sequence[EventView]] = field(init=False, repr=False, compare=False)
    """The `track` events by name, oldest first as in `events` (event nodes read only these)."""

    def __post_init__(self) -> None:
        tracks: dict[str, list[EventView]] = {}
        for event in self.events:
            if event.type == TRACK and event.event is not None:
                tracks.setdefault(event.event, []).append(event)
        object.__setattr__(self, "tracks", tracks)
