"""The campaign document: what to send, to whom, when and how fast.

```yaml
kind: campaign
name: weekly-digest
type: action                    # action (default) or api
audience: subscribers           # one name or a list (action campaigns)
exclude: [churned]              # optional
template: weekly-digest         # the template names the channel
category: marketing             # or transactional
schedule: {rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
           timezone: Europe/Stockholm, local_time: true}
rate: {per_second: 500}         # optional cap
waves: {count: 3, interval: 30m, shares: [20, 30, 50]}   # optional
time_limit: 12h                 # default; counted from each recipient's send time
```

Without a schedule an action campaign sends once, when activated. API
campaigns (`type: api`) have no audience; `schedule` may only bound the window
in which triggers are accepted (`start`, `end`, `timezone`). The schedule's
fields are described in `clarion.campaigns.schedule`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clarion.campaigns.schedule import Schedule
from clarion.model.documents import Problem
from clarion.model.durations import parse_duration
from clarion.model.messages import Category

Names = list[str]

MAX_TIME_LIMIT = timedelta(days=7)
DEFAULT_TIME_LIMIT = timedelta(hours=12)


def _names(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _duration(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    return value


class Rate(BaseModel):
    """A cap on messages per second for the whole run (token bucket in the dispatcher)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: float = Field(gt=0, le=100_000)


class Waves(BaseModel):
    """Send in 2 to 10 waves, `interval` apart; `shares` in percent (equal by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=2, le=10)
    interval: timedelta
    shares: list[float] | None = None

    _interval = field_validator("interval", mode="before")(_duration)

    @model_validator(mode="after")
    def _check(self) -> Waves:
        if self.interval < timedelta(minutes=1):
            raise ValueError("waves.interval is at least 1 minute")
        if self.shares is not None:
            if len(self.shares) != self.count:
                raise ValueError("waves.shares has one share per wave")
            if any(s <= 0 for s in self.shares) or abs(sum(self.shares) - 100) > 1e-6:
                raise ValueError("waves.shares are positive percentages that add up to 100")
        return self

    def fractions(self) -> list[float]:
        """Each wave's share of the audience, as fractions adding up to 1."""
        if self.shares is None:
            return [1 / self.count] * self.count
        return [s / 100 for s in self.shares]


class CampaignSpec(BaseModel):
    """A `kind: campaign` document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["campaign"] = "campaign"
    name: str | None = None
    description: str = ""
    type: Literal["action", "api"] = "action"
    audience: Names = Field(default_factory=list)
    exclude: Names = Field(default_factory=list)
    template: str = Field(min_length=1)
    channel: str | None = None
    category: Category = Category.MARKETING
    subscription_group: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    """Static values every message of an action campaign sees as `{{ context.* }}`."""
    schedule: Schedule | None = None
    rate: Rate | None = None
    waves: Waves | None = None
    time_limit: timedelta = DEFAULT_TIME_LIMIT
    test_profiles: Names = Field(default_factory=list)
    """Profiles (ids, or `namespace:value` identities) a test send goes to by default."""
    create_profiles: bool = False
    """API campaigns: create a profile for a recipient nobody knows yet."""

    _lists = field_validator("audience", "exclude", "test_profiles", mode="before")(_names)
    _limit = field_validator("time_limit", mode="before")(_duration)

    @model_validator(mode="after")
    def _shape(self) -> CampaignSpec:
        if not timedelta(minutes=1) <= self.time_limit <= MAX_TIME_LIMIT:
            raise ValueError("time_limit is between 1 minute and 7 days")
        if self.type == "action":
            if not self.audience:
                raise ValueError("an action campaign needs an `audience`")
            if self.create_profiles:
                raise ValueError("create_profiles is for API campaigns")
            if self.waves is not None and self.schedule is not None and self.schedule.local_time:
                raise ValueError("waves and local_time do not combine: choose one")
        else:
            if self.audience or self.exclude:
                raise ValueError("an API campaign has no audience: recipients come with each call")
            if self.waves is not None:
                raise ValueError("waves are for action campaigns")
            if self.schedule is not None and not self.schedule.window_only:
                raise ValueError(
                    "an API campaign's schedule only bounds when triggers are accepted: "
                    "give start, end and timezone"
                )
        if self.schedule is not None and self.type == "action" and self.schedule.window_only:
            raise ValueError("a schedule needs one of at, every, cron or rrule")
        return self

    @property
    def throttle_rate(self) -> float | None:
        return self.rate.per_second if self.rate else None


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "constrained-")):
            out += f".{part}" if out else part
    return out


def parse_campaign(spec: Mapping[str, Any]) -> CampaignSpec:
    """The parsed document; raises pydantic's ValidationError."""
    return CampaignSpec.model_validate(dict(spec))


def campaign_problems(spec: Mapping[str, Any]) -> tuple[CampaignSpec | None, list[Problem]]:
    """The parsed document, or the problems that keep it from parsing."""
    try:
        return parse_campaign(spec), []
    except ValidationError as exc:
        return None, [
            Problem(_path(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]
