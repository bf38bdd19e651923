"""What goes into a step (inputs, the world it may read) and what comes out (effects).

The step never does I/O: it reads `World`, a snapshot the runtime loads, and
returns effects that the runtime applies in the same transaction (or, for HTTP
calls, right after it, feeding the answer back as an input).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clarion.audiences.memory import ProfileView
from clarion.audiences.resolver import NO_REFERENCES, Resolver

# --- inputs ------------------------------------------------------------------


@dataclass(frozen=True)
class Enter:
    """The profile enters (its entry event, if any, becomes `context.entry`)."""

    event: dict[str, Any] | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventInput:
    """An event of the profile: `{type, event, properties, timestamp_us, message_id}`."""

    event: dict[str, Any]


@dataclass(frozen=True)
class TimerFired:
    """A timer of this instance came due (`key` "timeout" is the global timeout)."""

    key: str


@dataclass(frozen=True)
class HttpResult:
    """The answer of a custom action's call."""

    key: str
    status: int | None
    body: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Resume:
    """A held profile may go on (the journey was resumed)."""


@dataclass(frozen=True)
class Stop:
    """The journey was stopped: everyone leaves."""

    reason: str = "stopped"


Input = Enter | EventInput | TimerFired | HttpResult | Resume | Stop


@dataclass
class World:
    """What a step may read besides the instance: all of it loaded beforehand."""

    now_us: int
    profile: ProfileView
    resolver: Resolver = NO_REFERENCES
    paused: bool = False
    caps: dict[str, int] = field(default_factory=dict)
    """Cap node -> how many profiles took its capped path so far."""
    message_id: Callable[[str, int], str] = lambda node, visit: f"{node}:{visit}"
    """The message id a message node sends on a visit (derived like the runtime's)."""
    default_timezone: str = "UTC"


# --- effects -----------------------------------------------------------------


@dataclass(frozen=True)
class SendMessage:
    node: str
    visit: int
    channel: str
    template: str
    category: str
    subscription_group: str | None
    message_id: str


@dataclass(frozen=True)
class ScheduleTimer:
    key: str
    due_us: int


@dataclass(frozen=True)
class UpdateProfile:
    set: dict[str, Any]
    unset: list[str]


@dataclass(frozen=True)
class CallHttp:
    key: str
    node: str
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    timeout_s: float
    retries: int


@dataclass(frozen=True)
class EnterJourney:
    journey: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Emit:
    """An internal event on the log (`journey.entered`, `journey.exited`, ...)."""

    event: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Count:
    """A statistic of a node: `entered`, `passed` (went on), `exited` (left the journey
    there), `completed`, `branch:<index>` / `branch:otherwise`, `capped`."""

    node: str
    counter: str
    delta: int = 1


Effect = SendMessage | ScheduleTimer | UpdateProfile | CallHttp | EnterJourney | Emit | Count
