"""Journey conditions: the audience language over the profile, the context and time.

The `context` and `time` node kinds are declared by the audience language and
compiled here, for the in-memory evaluator: a condition sees a `JourneyView`,
a profile view that also carries the journey's context.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from clarion.audiences.memory import CompiledAudience, ProfileView, compile_definition
from clarion.audiences.memory.compiler import MEMORY_COMPILERS, Compiled, MemoryContext
from clarion.audiences.memory.values import condition_test
from clarion.audiences.resolver import Resolver
from clarion.clock import from_micros
from clarion.model.audience import Definition
from clarion.model.audience_nodes import ContextNode, TimeNode

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


JourneyView = ProfileView
"""A profile as a journey condition sees it: with the journey's `context` and
`default_timezone` (fields of `ProfileView`: the audience evaluator is compiled,
and a compiled class takes no interpreted subclass)."""


def zone_of(profile: ProfileView, default: str = "UTC") -> ZoneInfo:
    """The profile's time zone, else the journey's default."""
    for name in (profile.timezone, profile.default_timezone, default):
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, KeyError):
                continue
    return ZoneInfo("UTC")


@MEMORY_COMPILERS.register("context")
def compile_context(node: ContextNode, path: str, ctx: MemoryContext) -> Compiled:
    """A condition on the journey context (`entry.properties.total`, `steps.check.x`)."""
    test = condition_test(node.context)
    return Compiled(lambda profile, now: test(profile.context, now))


def _hhmm(text: str) -> time:
    return time.fromisoformat(text)


@MEMORY_COMPILERS.register("time")
def compile_time(node: TimeNode, path: str, ctx: MemoryContext) -> Compiled:
    """Time of day, day of week and date ranges, in the profile's or a given zone."""
    spec = node.time
    fixed = None if spec.timezone == "profile" else ZoneInfo(spec.timezone)
    start = end = None
    if spec.time_of_day is not None:
        start, end = _hhmm(spec.time_of_day.from_), _hhmm(spec.time_of_day.to)
    days = set(spec.days_of_week or _WEEKDAYS)
    first = last = None
    if spec.dates is not None:
        first, last = (
            date.fromisoformat(spec.dates.from_[:10]),
            date.fromisoformat(spec.dates.to[:10]),
        )

    def holds(profile: ProfileView, now: int) -> bool:
        local = from_micros(now).astimezone(fixed or zone_of(profile))
        if _WEEKDAYS[local.weekday()] not in days:
            return False
        if first is not None and last is not None and not first <= local.date() <= last:
            return False
        if start is not None and end is not None:
            clock = local.time().replace(tzinfo=None)
            inside = start <= clock < end if start <= end else (clock >= start or clock < end)
            return inside
        return True

    return Compiled(holds)


_COMPILED: dict[int, tuple[Definition, CompiledAudience]] = {}


def holds(definition: Definition, view: JourneyView, now_us: int, resolver: Resolver) -> bool:
    """Whether a condition holds for the view at `now_us` (compiled once per definition)."""
    cached = _COMPILED.get(id(definition))
    if cached is None or cached[0] is not definition:
        cached = (definition, compile_definition(definition, resolver, path="when"))
        _COMPILED[id(definition)] = cached
    return cached[1].holds(view, now_us)


def local_now(now_us: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(now_us / 1e6, tz=UTC).astimezone(zone)
