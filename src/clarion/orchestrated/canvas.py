"""The canvas document: a DAG of activities joined by transitions (`next`).

Every activity has an `id`, a `type` and (except `end`) where its working set
goes next: `next` (one id or a list, a fork) or, for a split, each segment's
`next` and the `complement`. Filters are audience-language definitions, with
`attribute` for the row's columns and paths through links and `aggregate` over
one-to-many links (see `clarion.orchestrated.sql.filters`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from clarion.model.audience_conditions import Condition
from clarion.model.audience_nodes import Node
from clarion.model.durations import parse_duration
from clarion.orchestrated.schema import PROFILES

Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Next = Id | list[Id] | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Order(_Strict):
    """An ordering term: a path and a direction; a bare string is ascending."""

    path: str
    direction: Literal["asc", "desc"] = "asc"

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, data: Any) -> Any:
        if isinstance(data, str):
            path, _, direction = data.partition(" ")
            return {"path": path, "direction": direction.strip() or "asc"}
        return data


class _Activity(_Strict):
    id: Id
    label: str = ""
    next: Next = None

    def targets(self) -> list[str]:
        """The activities this one's transitions lead to."""
        if self.next is None:
            return []
        return [self.next] if isinstance(self.next, str) else list(self.next)


class BuildAudience(_Activity):
    """A query on a targeting dimension, or an existing Clarion audience (profiles)."""

    type: Literal["build_audience"]
    dimension: str = PROFILES
    filter: Node | None = None
    audience: str | None = None


class Combine(_Activity):
    """Union, intersection or exclusion of the inbound sets (`primary` minus the others)."""

    type: Literal["combine"]
    operation: Literal["union", "intersection", "exclusion"] = "union"
    primary: Id | None = None


class Deduplicate(_Activity):
    """One row (or `count`) per key, the first by `order_by` (completed by the primary key)."""

    type: Literal["deduplicate"]
    keys: Annotated[list[str], Field(min_length=1)]
    order_by: list[Order] = []
    keep: Literal["first", "last"] = "first"
    count: Annotated[int, Field(ge=1)] = 1


class TopValues(_Strict):
    """The most frequent (or highest-`by`) values of `path` among linked rows."""

    link: str
    path: str
    by: Literal["count", "sum", "max"] = "count"
    of: str | None = None
    """The column `sum`/`max` rank by."""
    limit: Annotated[int, Field(ge=1, le=10)] = 1
    where: list[Any] = []


class AggregateValue(_Strict):
    """count / sum / min / max / exists over a one-to-many link, as a value."""

    link: str
    function: Literal["count", "sum", "min", "max", "exists"] = Field("count", alias="fn")
    path: str | None = None
    where: list[Condition] = []

    @model_validator(mode="after")
    def _path(self) -> AggregateValue:
        if self.function in ("sum", "min", "max") and self.path is None:
            raise ValueError(f"`{self.function}` needs the `path` it aggregates")
        return self


class EnrichColumn(_Strict):
    """One new column: an attribute through links, an aggregate, or top linked values."""

    name: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
    path: str | None = None
    aggregate: AggregateValue | None = None
    top: TopValues | None = None

    @model_validator(mode="after")
    def _one(self) -> EnrichColumn:
        given = [x for x in (self.path, self.aggregate, self.top) if x is not None]
        if len(given) != 1:
            raise ValueError("an enrichment column has exactly one of path, aggregate, top")
        return self


class Secondary(_Strict):
    """One row per linked row: the send goes out once per booking."""

    link: str
    filter: Node | None = None


class Enrich(_Activity):
    """Adds columns from linked entities, or a secondary dimension."""

    type: Literal["enrich"]
    columns: list[EnrichColumn] = []
    secondary: Secondary | None = None


class Limit(_Strict):
    """At most `count` rows, or `percent` of the rows matching the segment."""

    count: Annotated[int, Field(ge=0)] | None = None
    percent: Annotated[float, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Limit:
        if (self.count is None) == (self.percent is None):
            raise ValueError("a limit is a `count` or a `percent`")
        return self


class Segment(_Strict):
    """A split's subset: a filter, an optional limit (ordered), and where it goes."""

    id: Id
    filter: Node | None = None
    limit: Limit | None = None
    order_by: list[Order] = []
    """Which rows a limit keeps; without it, a stable hash of (seed, key) picks them."""
    next: Next = None


class Split(_Activity):
    """Ordered segments; a row goes to the first that takes it (unless `overlap`)."""

    type: Literal["split"]
    segments: Annotated[list[Segment], Field(min_length=1)]
    complement: Id | None = None
    overlap: bool = False
    seed: str = ""


class ChangeDimension(_Activity):
    """From bookings to their profiles, or back (`link` picks the way when there are several)."""

    type: Literal["change_dimension"]
    to: str
    link: str | None = None


class SaveAudience(_Activity):
    """Stores the working set's profiles as a named audience."""

    type: Literal["save_audience"]
    audience: str


class Wait(_Activity):
    """A fixed delay before the next activities run (`2h`, `1d`, `PT30M`)."""

    type: Literal["wait"]
    duration: str

    @model_validator(mode="after")
    def _duration(self) -> Wait:
        parse_duration(self.duration)
        return self


MIN_INTERVAL = timedelta(minutes=15)
"""The shortest `every` of a scheduler (batch runs, as the brief's product advises)."""


class Scheduler(_Activity):
    """When the canvas runs: once `at`, or `every` interval (not below the minimum)."""

    type: Literal["scheduler"]
    at: str | None = None
    every: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Scheduler:
        if self.every is not None and parse_duration(self.every) < MIN_INTERVAL:
            raise ValueError(
                f"a canvas runs at most every {int(MIN_INTERVAL.total_seconds() // 60)} minutes"
            )
        return self


class Fork(_Activity):
    """Copies the working set to every `next`."""

    type: Literal["fork"]


class AndJoin(_Activity):
    """Goes on once every inbound transition has arrived, with the `primary` set."""

    type: Literal["and_join"]
    primary: Id | None = None


class Channel(_Activity):
    """Email, SMS, push or direct mail to every row's profile, personalised with the row."""

    type: Literal["email", "sms", "push", "direct_mail"]
    template: str
    category: Literal["marketing", "transactional"] = "marketing"
    subscription_group: str | None = None


class End(_Activity):
    """Marks the end; does nothing."""

    type: Literal["end"]


ACTIVITY_CLASSES: tuple[type[_Activity], ...] = (
    BuildAudience,
    Combine,
    Deduplicate,
    Enrich,
    Split,
    ChangeDimension,
    SaveAudience,
    Wait,
    Scheduler,
    Fork,
    AndJoin,
    Channel,
    End,
)
CHANNELS = ("email", "sms", "push", "direct_mail")


def _type_of(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "channel" if kind in CHANNELS else kind


Activity = Annotated[
    Annotated[BuildAudience, Tag("build_audience")]
    | Annotated[Combine, Tag("combine")]
    | Annotated[Deduplicate, Tag("deduplicate")]
    | Annotated[Enrich, Tag("enrich")]
    | Annotated[Split, Tag("split")]
    | Annotated[ChangeDimension, Tag("change_dimension")]
    | Annotated[SaveAudience, Tag("save_audience")]
    | Annotated[Wait, Tag("wait")]
    | Annotated[Scheduler, Tag("scheduler")]
    | Annotated[Fork, Tag("fork")]
    | Annotated[AndJoin, Tag("and_join")]
    | Annotated[Channel, Tag("channel")]
    | Annotated[End, Tag("end")],
    Discriminator(
        _type_of,
        custom_error_type="activity_type",
        custom_error_message="unknown activity type; expected one of: build_audience, combine,"
        " deduplicate, enrich, split, change_dimension, save_audience, wait, scheduler, fork,"
        " and_join, email, sms, push, direct_mail, end",
    ),
]


class CanvasSpec(_Strict):
    """`kind: canvas`: a named DAG of activities."""

    kind: Literal["canvas"] = "canvas"
    name: str | None = None
    description: str = ""
    seed: str = ""
    """Seeds percentages and random orderings (default: the canvas name)."""
    activities: Annotated[list[Activity], Field(min_length=1)]
