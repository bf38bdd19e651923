"""The node kinds of an audience definition: a tree of one-key objects.

Each node is an object with exactly one key, its kind (`{trait: {...}}`,
`{all: [...]}`). The whole grammar is declared here; which engines can compile
a kind is decided by the compilers' registries (`clarion.audiences.registry`):
`attribute`, `aggregate`, `context` and `time` are declared for the journey and
orchestrated issues, which register their compilation.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictFloat,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

from clarion.model.audience_conditions import (
    AT_LEAST_ONCE,
    Condition,
    ConditionValue,
    CountCondition,
    CountOperator,
    check_path,
    check_value,
)
from clarion.model.consent import CHANNELS
from clarion.model.durations import Window, parse_instant

Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NodeBase(_Part):
    """A node of the tree; `KIND` is its one key."""

    KIND: ClassVar[str] = ""


# --- boolean composition -------------------------------------------------------


class AllNode(NodeBase):
    """True when every child is (an empty `all` is everyone)."""

    KIND: ClassVar[str] = "all"
    all: list[Node]


class AnyNode(NodeBase):
    """True when at least one child is."""

    KIND: ClassVar[str] = "any"
    any: Annotated[list[Node], Field(min_length=1)]


class NotNode(NodeBase):
    """True when its child is not."""

    KIND: ClassVar[str] = "not"
    not_: Node = Field(alias="not")


# --- profile -----------------------------------------------------------------------


class TraitNode(NodeBase):
    """A condition on the profile trait at `path` (`address.city`)."""

    KIND: ClassVar[str] = "trait"
    trait: Condition


class Identity(_Part):
    """Has at least one identity in `namespace` (`email`, `phone`, `user_id`, custom)."""

    namespace: Name


class IdentityNode(NodeBase):
    """The profile has an identity in a namespace."""

    KIND: ClassVar[str] = "identity"
    identity: Identity


class Subscribed(_Part):
    """Effective consent for a channel, or for one subscription group of it."""

    channel: Name
    group: Name | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str) -> str:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of: {', '.join(CHANNELS)}")
        return channel


class SubscribedNode(NodeBase):
    """The profile may receive messages of a channel (or group), per `model.consent`."""

    KIND: ClassVar[str] = "subscribed"
    subscribed: Subscribed


class InAudience(_Part):
    """Membership of another audience, by name."""

    name: Name

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class InAudienceNode(NodeBase):
    """The profile is a member of the named audience (no cycles)."""

    KIND: ClassVar[str] = "in_audience"
    in_audience: InAudience


# --- events --------------------------------------------------------------------


class Performed(_Part):
    """Did `event` (track calls), matching `where`, `count` times, within a window."""

    event: Name
    where: list[Condition] = []
    count: CountCondition = AT_LEAST_ONCE
    within: Window | None = None


class PerformedNode(NodeBase):
    """The profile performed an event."""

    KIND: ClassVar[str] = "performed"
    performed: Performed


class NotPerformed(_Part):
    """Did not do `event` (matching `where`) within the window (or ever)."""

    event: Name
    where: list[Condition] = []
    within: Window | None = None


class NotPerformedNode(NodeBase):
    """The profile did not perform an event."""

    KIND: ClassVar[str] = "not_performed"
    not_performed: NotPerformed


class LastPerformed(_Part):
    """The most recent `event` (matching `where`) happened before/after/within."""

    event: Name
    where: list[Condition] = []
    op: Literal["before", "after", "within_last", "within_next"]
    value: ConditionValue

    @field_validator("value")
    @classmethod
    def _value(cls, value: Any, info: Any) -> Any:
        op = info.data.get("op")
        return value if op is None else check_value(op, value)


class LastPerformedNode(NodeBase):
    """A condition on the time of the profile's most recent occurrence of an event."""

    KIND: ClassVar[str] = "last_performed"
    last_performed: LastPerformed


MessageOutcomeName = Literal[
    "received",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "unsubscribed",
    "complained",
    "skipped",
    "failed",
]


class MessageOutcome(_Part):
    """An outcome of messages from a campaign, journey or canvas, or of a template.

    Sugar over `performed` on the `message.<outcome>` events; `received` means
    `message.delivered` (a message that bounced was sent, never received).
    """

    outcome: MessageOutcomeName
    campaign: Name | None = None
    journey: Name | None = None
    canvas: Name | None = None
    template: Name | None = None
    channel: Name | None = None
    count: CountCondition = AT_LEAST_ONCE
    within: Window | None = None

    @model_validator(mode="after")
    def _one_source(self) -> MessageOutcome:
        sources = [s for s in (self.campaign, self.journey, self.canvas) if s is not None]
        if len(sources) > 1:
            raise ValueError("name at most one of campaign, journey, canvas")
        return self


class MessageOutcomeNode(NodeBase):
    """Received / opened / clicked / bounced / unsubscribed ... messages."""

    KIND: ClassVar[str] = "message_outcome"
    message_outcome: MessageOutcome


# --- declared for later issues ----------------------------------------------


class AttributeNode(NodeBase):
    """A condition on a column of the targeted row, through declared links (`hotel.region`)."""

    KIND: ClassVar[str] = "attribute"
    attribute: Condition


class Aggregate(_Part):
    """count / sum / min / max / exists over a one-to-many link, compared with a value."""

    link: Name
    function: Literal["count", "sum", "min", "max", "exists"] = "count"
    path: str | None = None
    where: list[Condition] = []
    op: CountOperator | None = None
    value: StrictInt | StrictFloat | None = None

    @model_validator(mode="before")
    @classmethod
    def _fn(cls, data: Any) -> Any:
        """`fn` is an alias of `function`."""
        if isinstance(data, dict) and "fn" in data and "function" not in data:
            data = {("function" if k == "fn" else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _shape(self) -> Aggregate:
        check_path(self.link)
        if self.path is not None:
            check_path(self.path)
        if self.function in ("sum", "min", "max") and self.path is None:
            raise ValueError(f"`{self.function}` needs the `path` it aggregates")
        if self.function == "exists" and (self.op is not None or self.value is not None):
            raise ValueError("`exists` takes no `op` or `value`")
        if self.function != "exists" and (self.op is None or self.value is None):
            raise ValueError(f"`{self.function}` needs an `op` and a `value` to compare with")
        return self


class AggregateNode(NodeBase):
    """An aggregate over linked rows (orchestrated campaigns)."""

    KIND: ClassVar[str] = "aggregate"
    aggregate: Aggregate


class ContextNode(NodeBase):
    """A condition on a journey's context (entry event properties, earlier step results)."""

    KIND: ClassVar[str] = "context"
    context: Condition


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class TimeOfDay(_Part):
    """`{from: "09:00", to: "17:00"}`; `from` after `to` spans midnight."""

    from_: Annotated[str, Field(alias="from", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    to: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class DateRange(_Part):
    """`{from: 2026-12-01, to: 2026-12-24}`, both days included."""

    from_: str = Field(alias="from")
    to: str

    @model_validator(mode="after")
    def _dates(self) -> DateRange:
        start, end = parse_instant(self.from_), parse_instant(self.to)
        if start is None or end is None or len(self.from_) != 10 or len(self.to) != 10:
            raise ValueError("`from` and `to` are ISO 8601 dates (2026-12-24)")
        if start > end:
            raise ValueError("`from` must not be after `to`")
        return self


class TimeCondition(_Part):
    """The current local time: time of day, day of week, dates; in a time zone."""

    timezone: str = "profile"
    time_of_day: TimeOfDay | None = None
    days_of_week: Annotated[list[Weekday], Field(min_length=1)] | None = None
    dates: DateRange | None = None

    @model_validator(mode="after")
    def _shape(self) -> TimeCondition:
        if self.time_of_day is None and self.days_of_week is None and self.dates is None:
            raise ValueError("give at least one of time_of_day, days_of_week, dates")
        if self.timezone != "profile":
            try:
                zoneinfo.ZoneInfo(self.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {self.timezone!r}; use `profile` or an IANA name"
                ) from None
        return self


class TimeNode(NodeBase):
    """A condition on the current time, in the profile's or a given time zone."""

    KIND: ClassVar[str] = "time"
    time: TimeCondition


NODE_CLASSES: tuple[type[NodeBase], ...] = (
    AllNode,
    AnyNode,
    NotNode,
    TraitNode,
    IdentityNode,
    SubscribedNode,
    InAudienceNode,
    PerformedNode,
    NotPerformedNode,
    LastPerformedNode,
    MessageOutcomeNode,
    AttributeNode,
    AggregateNode,
    ContextNode,
    TimeNode,
)
NODE_KINDS: dict[str, type[NodeBase]] = {cls.KIND: cls for cls in NODE_CLASSES}


def node_kind(value: Any) -> str | None:
    """The kind of a node: its one key, or None when it is not a one-key object."""
    if isinstance(value, NodeBase):
        return value.KIND
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in NODE_KINDS else None
    return None


Node = Annotated[
    Annotated[AllNode, Tag("all")]
    | Annotated[AnyNode, Tag("any")]
    | Annotated[NotNode, Tag("not")]
    | Annotated[TraitNode, Tag("trait")]
    | Annotated[IdentityNode, Tag("identity")]
    | Annotated[SubscribedNode, Tag("subscribed")]
    | Annotated[InAudienceNode, Tag("in_audience")]
    | Annotated[PerformedNode, Tag("performed")]
    | Annotated[NotPerformedNode, Tag("not_performed")]
    | Annotated[LastPerformedNode, Tag("last_performed")]
    | Annotated[MessageOutcomeNode, Tag("message_outcome")]
    | Annotated[AttributeNode, Tag("attribute")]
    | Annotated[AggregateNode, Tag("aggregate")]
    | Annotated[ContextNode, Tag("context")]
    | Annotated[TimeNode, Tag("time")],
    Discriminator(
        node_kind,
        custom_error_type="node_kind",
        custom_error_message="a node is an object with exactly one key naming its kind",
    ),
]
"""Any node of an audience definition."""

for _cls in NODE_CLASSES:
    _cls.model_rebuild()


def children(node: NodeBase) -> list[tuple[str, NodeBase]]:
    """The direct child nodes of `node`, with their path relative to it."""
    if isinstance(node, AllNode):
        return [(f"all[{i}]", child) for i, child in enumerate(node.all)]
    if isinstance(node, AnyNode):
        return [(f"any[{i}]", child) for i, child in enumerate(node.any)]
    if isinstance(node, NotNode):
        return [("not", node.not_)]
    return []
