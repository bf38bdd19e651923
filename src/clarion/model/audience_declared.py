"""Node kinds declared now and compiled by the issues that need them.

`attribute` and `aggregate` (orchestrated campaigns: columns of the targeted
row and aggregates over linked rows), `context` and `time` (journeys: the
journey's context and the current local time). Their compilers register with
`clarion.audiences.registry`; the grammar lives here.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt, model_validator

from clarion.model.audience_base import Name, NodeBase, Part
from clarion.model.audience_conditions import Condition, CountOperator, check_path
from clarion.model.durations import parse_instant


class AttributeNode(NodeBase):
    """A condition on a column of the targeted row, through declared links (`hotel.region`)."""

    KIND: ClassVar[str] = "attribute"
    attribute: Condition


class Aggregate(Part):
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


class TimeOfDay(Part):
    """`{from: "09:00", to: "17:00"}`; `from` after `to` spans midnight."""

    from_: Annotated[str, Field(alias="from", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    to: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class DateRange(Part):
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


class TimeCondition(Part):
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
