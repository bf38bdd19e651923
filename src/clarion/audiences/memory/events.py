"""Event nodes, in memory: performed, not_performed, last_performed, message_outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from clarion.audiences.memory.compiler import MEMORY_COMPILERS, Compiled, MemoryContext
from clarion.audiences.memory.profile import EventView, ProfileView
from clarion.audiences.memory.values import condition_test, instant_changes, instant_test
from clarion.audiences.semantics import TRACK, outcome_as_performed
from clarion.audiences.time_rules import window_changes
from clarion.clock import from_micros
from clarion.model.audience_conditions import AT_LEAST_ONCE, Condition
from clarion.model.audience_nodes import (
    LastPerformedNode,
    MessageOutcomeNode,
    NotPerformedNode,
    Performed,
    PerformedNode,
)
from clarion.model.durations import AnyWindow, InstantParts


def event_matcher(name: str, where: list[Condition]) -> Callable[[EventView, int], bool]:
    """Whether an event is a `track` of `name` whose properties meet `where`."""
    tests = [condition_test(condition) for condition in where]

    def matches(event: EventView, now: int) -> bool:
        return (
            event.type == TRACK
            and event.event == name
            and all(test(event.properties, now) for test in tests)
        )

    return matches


def _performed(spec: Performed) -> Compiled:
    matches = event_matcher(spec.event, spec.where)
    window: AnyWindow | None = spec.within

    def times(profile: ProfileView, now: int) -> list[int]:
        return [e.timestamp for e in profile.events if matches(e, now)]

    def holds(profile: ProfileView, now: int) -> bool:
        found = times(profile, now)
        if window is not None:
            bounds = window.bounds(now)
            found = [t for t in found if bounds.contains(t)]
        return spec.count.holds(len(found))

    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        if window is None:
            return ()
        return [c for t in times(profile, now) for c in window_changes(window, t)]

    return Compiled(holds, changes)


@MEMORY_COMPILERS.register("performed")
def compile_performed(node: PerformedNode, path: str, ctx: MemoryContext) -> Compiled:
    """Performed an event `count` times within a window."""
    return _performed(node.performed)


@MEMORY_COMPILERS.register("not_performed")
def compile_not_performed(node: NotPerformedNode, path: str, ctx: MemoryContext) -> Compiled:
    """Did not perform an event within a window."""
    spec = node.not_performed
    part = _performed(
        Performed(event=spec.event, where=spec.where, count=AT_LEAST_ONCE, within=spec.within)
    )
    return Compiled(lambda profile, now: not part.holds(profile, now), part.changes)


@MEMORY_COMPILERS.register("message_outcome")
def compile_message_outcome(node: MessageOutcomeNode, path: str, ctx: MemoryContext) -> Compiled:
    """Sugar over `performed` on `message.<outcome>` events."""
    return _performed(outcome_as_performed(node.message_outcome))


def instant_of(t: int) -> InstantParts:
    """An event time as the date operators take it (its UTC date)."""
    moment = from_micros(t)
    return InstantParts(moment.year, moment.month, moment.day, t)


@MEMORY_COMPILERS.register("last_performed")
def compile_last_performed(node: LastPerformedNode, path: str, ctx: MemoryContext) -> Compiled:
    """A date condition on the most recent matching event's time."""
    spec = node.last_performed
    matches = event_matcher(spec.event, spec.where)
    test = instant_test(spec.op, spec.value)
    flips = instant_changes(spec.op, spec.value)

    def latest(profile: ProfileView, now: int) -> int | None:
        times = [e.timestamp for e in profile.events if matches(e, now)]
        return max(times) if times else None

    def holds(profile: ProfileView, now: int) -> bool:
        t = latest(profile, now)
        return t is not None and test(instant_of(t), now)

    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        t = latest(profile, now)
        return [] if t is None or flips is None else flips(instant_of(t), now)

    return Compiled(holds, changes)
