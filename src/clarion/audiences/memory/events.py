"""Event nodes, in memory: performed, not_performed, last_performed, message_outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from clarion.audiences.memory.compiler import MEMORY_COMPILERS, Compiled, MemoryContext
from clarion.audiences.memory.profile import ProfileView
from clarion.audiences.memory.values import condition_test, instant_changes, instant_test
from clarion.audiences.semantics import outcome_as_performed
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
from clarion.model.durations import AnyWindow, BetweenWindow, InstantParts, LastWindow, micros

EventTimes = Callable[[ProfileView, int], list[int]]


def matching_times(name: str, where: list[Condition]) -> EventTimes:
    """The times of the profile's `track` events of `name` whose properties meet `where`."""
    tests = [condition_test(condition) for condition in where]
    # `holds` and `changes` are asked one after the other for the same profile and instant:
    # the last answer is kept (one tuple, replaced whole, so concurrent callers only miss).
    last: list[tuple[ProfileView | None, int, list[int]]] = [(None, 0, [])]

    def times(profile: ProfileView, now: int) -> list[int]:
        seen, at, found = last[0]
        if seen is profile and at == now:
            return found
        candidates = profile.tracks.get(name, ())
        if not tests:
            found = [e.timestamp for e in candidates]
        elif len(tests) == 1:
            test = tests[0]
            found = [e.timestamp for e in candidates if test(e.properties, now)]
        else:
            found = [
                e.timestamp for e in candidates if all(test(e.properties, now) for test in tests)
            ]
        last[0] = (profile, now, found)
        return found

    return times


WindowRange = Callable[[int], tuple[int, int]]


def window_range(window: AnyWindow) -> WindowRange:
    """The window's instants at `now` as a half-open range `[low, high)` of µs (exact: integer
    instants), with the window's length worked out once."""
    if isinstance(window, BetweenWindow):
        fixed = window.bounds(0)
        assert fixed.low is not None and fixed.high is not None
        low, high = fixed.low, fixed.high
        return lambda now: (low, high)
    length = micros(window.duration)
    if isinstance(window, LastWindow):  # now - length < t <= now
        return lambda now: (now - length + 1, now + 1)
    return lambda now: (now, now + length)  # NextWindow: now <= t < now + length


def _performed(spec: Performed) -> Compiled:
    times = matching_times(spec.event, spec.where)
    window: AnyWindow | None = spec.within
    count = spec.count
    if window is None:
        return Compiled(lambda profile, now: count.holds(len(times(profile, now))))
    inside = window_range(window)
    # Every window kind has fixed change offsets from an event's time (none for `between`).
    offsets = [] if isinstance(window, BetweenWindow) else window_changes(window, 0)

    def holds(profile: ProfileView, now: int) -> bool:
        low, high = inside(now)
        found = 0
        for t in times(profile, now):
            if low <= t < high:
                found += 1
        return count.holds(found)

    if len(offsets) == 1:  # the common shape (a `last` or `next` window)
        (only,) = offsets
        return Compiled(holds, lambda profile, now: [t + only for t in times(profile, now)])

    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        if not offsets:
            return ()
        return [t + offset for t in times(profile, now) for offset in offsets]

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
    test = part.holds
    return Compiled(lambda profile, now: not test(profile, now), part.changes)


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
    times = matching_times(spec.event, spec.where)
    test = instant_test(spec.op, spec.value)
    flips = instant_changes(spec.op, spec.value)

    def latest(profile: ProfileView, now: int) -> int | None:
        found = times(profile, now)
        return max(found) if found else None

    def holds(profile: ProfileView, now: int) -> bool:
        t = latest(profile, now)
        return t is not None and test(instant_of(t), now)

    if flips is None:
        return Compiled(holds)
    moves = flips

    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        t = latest(profile, now)
        return [] if t is None else moves(instant_of(t), now)

    return Compiled(holds, changes)
