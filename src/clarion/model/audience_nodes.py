"""The node kinds of an audience definition: a tree of one-key objects.

Each node is an object with exactly one key, its kind (`{trait: {...}}`,
`{all: [...]}`). The whole grammar is declared here; which engines can compile
a kind is decided by the compilers' registries (`clarion.audiences.registry`):
`attribute`, `aggregate`, `context` and `time` are declared for the journey and
orchestrated issues, which register their compilation.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from clarion.model.audience_base import Name, NodeBase, Part
from clarion.model.audience_conditions import (
    AT_LEAST_ONCE,
    Condition,
    ConditionValue,
    CountCondition,
    check_value,
)
from clarion.model.audience_declared import (
    Aggregate,
    AggregateNode,
    AttributeNode,
    ContextNode,
    DateRange,
    TimeCondition,
    TimeNode,
    TimeOfDay,
    Weekday,
)
from clarion.model.consent import CHANNELS
from clarion.model.durations import Window

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


class Identity(Part):
    """Has at least one identity in `namespace` (`email`, `phone`, `user_id`, custom)."""

    namespace: Name


class IdentityNode(NodeBase):
    """The profile has an identity in a namespace."""

    KIND: ClassVar[str] = "identity"
    identity: Identity


class Subscribed(Part):
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


class InAudience(Part):
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


class Performed(Part):
    """Did `event` (track calls), matching `where`, `count` times, within a window."""

    event: Name
    where: list[Condition] = []
    count: CountCondition = AT_LEAST_ONCE
    within: Window | None = None


class PerformedNode(NodeBase):
    """The profile performed an event."""

    KIND: ClassVar[str] = "performed"
    performed: Performed


class NotPerformed(Part):
    """Did not do `event` (matching `where`) within the window (or ever)."""

    event: Name
    where: list[Condition] = []
    within: Window | None = None


class NotPerformedNode(NodeBase):
    """The profile did not perform an event."""

    KIND: ClassVar[str] = "not_performed"
    not_performed: NotPerformed


class LastPerformed(Part):
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


class MessageOutcome(Part):
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


__all__ = [
    "NODE_CLASSES",
    "NODE_KINDS",
    "Aggregate",
    "AggregateNode",
    "AllNode",
    "AnyNode",
    "AttributeNode",
    "ContextNode",
    "DateRange",
    "Identity",
    "IdentityNode",
    "InAudience",
    "InAudienceNode",
    "LastPerformed",
    "LastPerformedNode",
    "MessageOutcome",
    "MessageOutcomeName",
    "MessageOutcomeNode",
    "Name",
    "Node",
    "NodeBase",
    "NotNode",
    "NotPerformed",
    "NotPerformedNode",
    "Part",
    "Performed",
    "PerformedNode",
    "Subscribed",
    "SubscribedNode",
    "TimeCondition",
    "TimeNode",
    "TimeOfDay",
    "TraitNode",
    "Weekday",
    "children",
    "node_kind",
]
