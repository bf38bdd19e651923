"""The logical plan: one small node per working set, reading other working sets by key.

A canvas becomes a list of `Step`s in dependency order; each step's `node`
says how its working set is made from its inputs (keys of earlier steps), and
its `columns` say what flows on the transition (the dimension, a secondary
dimension, enrichment columns). SQL generation (`clarion.orchestrated.sql`)
and the optimiser passes (`clarion.orchestrated.optimize`) work on these
nodes; nothing here knows an engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clarion.model.audience_nodes import Node
from clarion.orchestrated.canvas import EnrichColumn, Limit, Order


@dataclass(frozen=True, slots=True)
class Columns:
    """What flows on a transition: rows of `dimension` (and of `secondary`), plus columns."""

    dimension: str
    secondary: str | None = None
    """The one-to-many link whose rows multiply the set (one message per booking)."""
    secondary_entity: str | None = None
    enriched: tuple[tuple[str, str], ...] = ()
    """Enrichment columns and their types, in order."""

    def enrichment(self) -> dict[str, str]:
        """Enrichment columns by name."""
        return dict(self.enriched)


@dataclass(frozen=True, slots=True)
class PlanNode:
    """Base of plan nodes; `inputs` are the keys of the steps read."""

    @property
    def inputs(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Scan(PlanNode):
    """Rows of a dimension matching a filter (Build audience)."""

    dimension: str
    filter: Node | None = None
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Pass(PlanNode):
    """The input unchanged (wait, scheduler, fork, and-join, save audience, channels)."""

    source: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True, slots=True)
class SetOp(PlanNode):
    """Union, intersection or exclusion; `sources[0]` is the primary set."""

    operation: str
    sources: tuple[str, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.sources


@dataclass(frozen=True, slots=True)
class Dedup(PlanNode):
    """At most `count` rows per key, by an ordering completed by the primary key."""

    source: str
    keys: tuple[str, ...]
    order_by: tuple[Order, ...]
    keep_last: bool
    count: int

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True, slots=True)
class Enrich(PlanNode):
    """New columns, and optionally one row per linked row of `secondary`."""

    source: str
    columns: tuple[EnrichColumn, ...]
    secondary: str | None = None
    secondary_filter: Node | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True, slots=True)
class Segment(PlanNode):
    """A split's subset: filter and limit over the rows not taken by `before`."""

    source: str
    filter: Node | None
    limit: Limit | None
    order_by: tuple[Order, ...]
    seed: str
    before: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source, *self.before)


@dataclass(frozen=True, slots=True)
class Complement(PlanNode):
    """The rows of the input in none of the segments."""

    source: str
    segments: tuple[str, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source, *self.segments)


@dataclass(frozen=True, slots=True)
class ChangeDimension(PlanNode):
    """The rows of another dimension reached through `link` (distinct)."""

    source: str
    link: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True, slots=True)
class Recipients(PlanNode):
    """A channel activity's rows still eligible after consent and suppression."""

    source: str
    channel: str
    subscription_group: str | None
    category: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True, slots=True)
class Step:
    """One working set: its key (`activity` or `split.segment`), how it is made, its columns."""

    key: str
    activity: str
    node: PlanNode
    columns: Columns
    alias_of: str | None = None
    """Set by `optimize.alias_pass_through`: the step reuses that step's table."""


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps of a canvas in dependency order."""

    steps: tuple[Step, ...]
    channels: dict[str, str] = field(default_factory=dict)
    """Channel activity id -> the key of its recipients step."""

    def step(self, key: str) -> Step:
        """The step with `key`."""
        return next(s for s in self.steps if s.key == key)

    def table_of(self, key: str) -> str:
        """The key whose table holds `key`'s rows (following aliases)."""
        step = self.step(key)
        return self.table_of(step.alias_of) if step.alias_of else key


def describe(plan: Plan) -> str:
    """A plan as text, one step a line (what the fixture files compare)."""
    lines = []
    for s in plan.steps:
        name = type(s.node).__name__
        inputs = ",".join(s.node.inputs)
        alias = f" = {s.alias_of}" if s.alias_of else ""
        extra = f"+{s.columns.secondary}" if s.columns.secondary else ""
        cols = ",".join(n for n, _ in s.columns.enriched)
        lines.append(
            f"{s.key}: {name}({inputs}) [{s.columns.dimension}{extra}{'; ' + cols if cols else ''}]"
            f"{alias}"
        )
    return "\n".join(lines)
