"""The journey document: entry, nodes, and the journey's properties.

A journey is a graph of nodes that each profile walks at its own pace. This
module declares its shape (pydantic, so the API and `clarion apply` validate it
and the UI gets a JSON Schema); `clarion.journeys.validate` checks the graph
(reachability, dangling edges, loops without waits, references).
Durations are written `30s`, `15m`, `2h`, `7d` (ISO 8601 `PT2H` too).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from clarion.model.audience import Definition
from clarion.model.audience_conditions import Condition
from clarion.model.durations import parse_duration

NodeId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
"""A positive duration: `30s`, `15m`, `2h`, `7d`, `P1D`, ..."""
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- entry -------------------------------------------------------------------


class EventEntry(_Strict):
    """A profile enters when it performs `event` (optionally filtered on its properties)."""

    type: Literal["event"]
    event: Annotated[str, Field(min_length=1, max_length=200)]
    where: list[Condition] = Field(default_factory=list)
    max_age: Duration = timedelta(hours=1)
    """Older events (SDKs deliver late) do not start the journey: counted as stale."""


class AudienceEntry(_Strict):
    """A profile enters when it qualifies for (or leaves) an audience."""

    type: Literal["audience"]
    audience: str
    when: Literal["entered", "exited"] = "entered"


class ReadAudienceEntry(_Strict):
    """Every member of an audience enters, once or on a schedule, at a rate."""

    type: Literal["read_audience"]
    audience: str
    at: str | None = None
    """An ISO 8601 instant; None means at publication."""
    every: Duration | None = None
    """Read again at this interval (recurring)."""
    rate_per_second: float | None = Field(None, gt=0)


class BusinessEventEntry(_Strict):
    """One event (e.g. "Flash Sale Started") makes every member of an audience enter,
    carrying the event's properties in its context."""

    type: Literal["business_event"]
    event: str
    audience: str


class ApiEntry(_Strict):
    """Profiles enter through `POST /v1/journeys/{id}/entries`."""

    type: Literal["api"]


Entry = Annotated[
    EventEntry | AudienceEntry | ReadAudienceEntry | BusinessEventEntry | ApiEntry,
    Field(discriminator="type"),
]


# --- nodes -------------------------------------------------------------------


class _Node(_Strict):
    id: NodeId
    description: str = ""


class WaitUntilDate(_Strict):
    """A date taken from the profile (`profile.birthday`) or context, plus an offset,
    at a local time: e.g. the birthday at 09:00."""

    path: Annotated[str, Field(pattern=r"^(profile|context)\.")]
    offset: str = "0s"
    at: LocalTime | None = None
    yearly: bool = False
    """Take the next anniversary of the date (birthdays)."""


class WaitNode(_Node):
    """Wait a duration, until an instant, until a date from data, or until a local time."""

    type: Literal["wait"]
    duration: Duration | None = None
    until: str | None = None
    until_date: WaitUntilDate | None = None
    until_time: LocalTime | None = None
    weekdays: list[Weekday] | None = None
    next: NodeId

    @model_validator(mode="after")
    def _one(self) -> WaitNode:
        given = [x for x in (self.duration, self.until, self.until_date, self.until_time) if x]
        if len(given) != 1:
            raise ValueError("a wait needs exactly one of duration, until, until_date, until_time")
        return self


class Branch(_Strict):
    when: Definition
    next: NodeId


class ConditionNode(_Node):
    """The first branch whose condition holds; otherwise `otherwise`."""

    type: Literal["condition"]
    branches: Annotated[list[Branch], Field(min_length=1)]
    otherwise: NodeId


class SplitPath(_Strict):
    percent: float = Field(gt=0, le=100)
    next: NodeId


class SplitNode(_Node):
    """A stable random split: the same profile always takes the same path."""

    type: Literal["split"]
    paths: Annotated[list[SplitPath], Field(min_length=2)]
    seed: str = ""

    @model_validator(mode="after")
    def _total(self) -> SplitNode:
        if abs(sum(p.percent for p in self.paths) - 100) > 1e-9:
            raise ValueError("split percentages must add up to 100")
        return self


class CapNode(_Node):
    """The first `limit` profiles take `next`; the rest take `otherwise`."""

    type: Literal["cap"]
    limit: int = Field(ge=0)
    next: NodeId
    otherwise: NodeId


class Awaited(_Strict):
    """An event to wait for, or an outcome of a message sent earlier in this journey."""

    event: str | None = None
    where: list[Condition] = Field(default_factory=list)
    outcome: (
        Literal["sent", "delivered", "opened", "clicked", "bounced", "failed", "unsubscribed"]
        | None
    ) = None
    message_node: NodeId | None = None
    next: NodeId

    @model_validator(mode="after")
    def _what(self) -> Awaited:
        if (self.event is None) == (self.outcome is None):
            raise ValueError("wait for either an event or a message outcome")
        if self.outcome is not None and self.message_node is None:
            raise ValueError("a message outcome needs the message_node it belongs to")
        return self


class ReactionNode(_Node):
    """Wait for events (first match wins) or a timeout."""

    type: Literal["reaction"]
    events: Annotated[list[Awaited], Field(min_length=1)]
    timeout: Duration
    timeout_next: NodeId


class MessageNode(_Node):
    """Send a message through the delivery pipeline."""

    type: Literal["message"]
    channel: Literal[
        "email", "sms", "push", "in_app", "web", "code", "content_card", "direct_mail", "webhook"
    ]
    template: str
    category: Literal["marketing", "transactional"] = "marketing"
    subscription_group: str | None = None
    next: NodeId


class UpdateProfileNode(_Node):
    """Set traits (values or Liquid strings over profile/context) or remove them."""

    type: Literal["update_profile"]
    set: dict[str, Any] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)
    next: NodeId


class CustomActionNode(_Node):
    """Call an HTTP endpoint; save response fields into the context."""

    type: Literal["custom_action"]
    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    timeout: Duration = timedelta(seconds=10)
    retries: int = Field(2, ge=0, le=10)
    save: dict[str, str] = Field(default_factory=dict)
    """context key -> dotted path into the JSON response."""
    next: NodeId
    error_next: NodeId | None = None

    @model_validator(mode="after")
    def _timeout(self) -> CustomActionNode:
        if not timedelta(seconds=1) <= self.timeout <= timedelta(seconds=30):
            raise ValueError("a custom action's timeout is 1 to 30 seconds")
        return self


class JumpNode(_Node):
    """Enter the profile into another journey (this one continues to `next` or ends)."""

    type: Literal["jump"]
    journey: str
    next: NodeId | None = None


class EndNode(_Node):
    type: Literal["end"]


JourneyNode = Annotated[
    WaitNode
    | ConditionNode
    | SplitNode
    | CapNode
    | ReactionNode
    | MessageNode
    | UpdateProfileNode
    | CustomActionNode
    | JumpNode
    | EndNode,
    Field(discriminator="type"),
]


# --- properties --------------------------------------------------------------


class Reentrance(_Strict):
    mode: Literal["never", "always", "after"] = "after"
    wait: Duration = timedelta(minutes=5)


class ExitCriterion(_Strict):
    """Leave from wherever the profile is when it performs `event` or leaves `audience`."""

    event: str | None = None
    where: list[Condition] = Field(default_factory=list)
    audience_exited: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ExitCriterion:
        if (self.event is None) == (self.audience_exited is None):
            raise ValueError("an exit criterion is an event or an audience_exited")
        return self


class Caps(_Strict):
    max_entries: int | None = Field(None, ge=0)
    max_concurrent: int | None = Field(None, ge=0)


class JourneySpec(_Strict):
    """A journey document: `{kind: journey, name, entry, nodes, ...}`."""

    kind: Literal["journey"] = "journey"
    name: str
    description: str = ""
    entry: Entry
    nodes: Annotated[list[JourneyNode], Field(min_length=1)]
    start: NodeId | None = None
    """The first node (default: the first in the list)."""
    reentrance: Reentrance | None = None
    exit_criteria: list[ExitCriterion] = Field(default_factory=list)
    timeout: Duration = timedelta(days=91)
    caps: Caps = Field(default_factory=Caps)
    timezone: str = "UTC"
    """For profiles without a time zone."""

    @property
    def first(self) -> str:
        return self.start or self.nodes[0].id

    def node(self, node_id: str) -> Any:
        """The node with this id (KeyError when absent)."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def reentry(self) -> Reentrance:
        """Re-entrance rules: default `after 5 minutes` for event journeys, else `never`."""
        if self.reentrance is not None:
            return self.reentrance
        return Reentrance() if self.entry.type == "event" else Reentrance(mode="never")


def successors(node: Any) -> list[str]:
    """The node ids a node can lead to."""
    out: list[str] = []
    for name in ("next", "otherwise", "timeout_next", "error_next"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            out.append(value)
    for branch in getattr(node, "branches", []) or []:
        out.append(branch.next)
    for path in getattr(node, "paths", []) or []:
        out.append(path.next)
    for awaited in getattr(node, "events", []) or []:
        out.append(awaited.next)
    return out
