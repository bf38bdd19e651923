"""The journey step: a pure function of (definition, instance, input, world).

    step(spec, instance, input, world) -> (new instance, effects)

No I/O, no wall clock, no randomness: the time is `world.now_us`, everything
else the step may read is in `World`, and what should happen is returned as
effects for the runtime to apply. Node kinds are handled by a registry
(`clarion.journeys.nodes`), one small module per kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clarion.journeys.io import (
    Count,
    Effect,
    Emit,
    Enter,
    EventInput,
    HttpResult,
    Input,
    Resume,
    ScheduleTimer,
    Stop,
    TimerFired,
    World,
)
from clarion.journeys.matching import event_matches
from clarion.journeys.state import Instance, Waiting
from clarion.model.journeys import JourneySpec

MAX_STEPS = 1_000
"""Nodes one input may run through; validation already refuses loops without a wait."""


@dataclass(frozen=True)
class Goto:
    """Leave the node for `next`."""

    next: str
    note: str = ""


@dataclass(frozen=True)
class Hold:
    """Stay at the node, waiting."""

    waiting: Waiting


@dataclass(frozen=True)
class Finish:
    """Leave the journey."""

    status: str
    reason: str


Move = Goto | Hold | Finish


@dataclass
class StepContext:
    """What node handlers work with."""

    spec: JourneySpec
    instance: Instance
    world: World
    effects: list[Effect] = field(default_factory=list)

    def emit(self, effect: Effect) -> None:
        self.effects.append(effect)

    def visit(self, node_id: str) -> int:
        """Which visit of the node this is: 0 the first time (loops count up)."""
        return self.instance.visits.get(node_id, 1) - 1


Handler = Callable[[StepContext, Any], Move]
HANDLERS: dict[str, Handler] = {}
RESUMERS: dict[str, Callable[[StepContext, Any, Input], Move | None]] = {}
"""Per node kind: what an input means to a profile waiting at such a node."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of a node kind."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def resumes(kind: str) -> Callable[[Any], Any]:
    """Register how a node kind's wait ends (None: the input does not concern it)."""

    def register(fn: Any) -> Any:
        RESUMERS[kind] = fn
        return fn

    return register


def _props(ctx: StepContext, **extra: Any) -> dict[str, Any]:
    i = ctx.instance
    return {
        "journey": i.journey,
        "journey_id": i.journey_id,
        "version": i.version,
        "instance_id": i.id,
        **extra,
    }


def finish(ctx: StepContext, status: str, reason: str) -> None:
    """End the instance (completed or exited) with the matching statistic and event."""
    i = ctx.instance
    node = i.node or ctx.spec.first
    i.status, i.exit_reason, i.waiting = status, reason, None  # type: ignore[assignment]
    i.history.append([node, ctx.world.now_us, f"{status}: {reason}"])
    ctx.emit(Count(node, "completed" if status == "completed" else "exited"))
    name = "journey.completed" if status == "completed" else "journey.exited"
    ctx.emit(Emit(name, _props(ctx, node=node, reason=reason)))


def advance(ctx: StepContext, node_id: str) -> None:
    """Walk from `node_id` until the profile waits or leaves."""
    i = ctx.instance
    for _ in range(MAX_STEPS):
        node = ctx.spec.node(node_id)
        i.node, i.status, i.waiting = node_id, "active", None
        i.visits[node_id] = i.visits.get(node_id, 0) + 1
        ctx.emit(Count(node_id, "entered"))
        move = HANDLERS[node.type](ctx, node)
        if not _apply(ctx, node_id, move):
            return
        assert isinstance(move, Goto)
        node_id = move.next
    finish(ctx, "exited", "too many steps at once")


def _apply(ctx: StepContext, node_id: str, move: Move) -> bool:
    """Record a move; True when the walk goes on to `move.next`."""
    i = ctx.instance
    if isinstance(move, Hold):
        waiting = move.waiting
        i.status, i.waiting = "waiting", waiting
        i.history.append([node_id, ctx.world.now_us, f"waiting ({waiting.kind})"])
        wake_us = waiting.due_us if waiting.kind in ("timer", "events") else None
        if wake_us is not None:
            ctx.emit(ScheduleTimer(waiting.key, wake_us))
        _ensure_timeout(ctx, wake_us)
        return False
    if isinstance(move, Finish):
        finish(ctx, move.status, move.reason)
        return False
    i.history.append([node_id, ctx.world.now_us, move.note or f"-> {move.next}"])
    ctx.emit(Count(node_id, "passed"))
    return True


def _ensure_timeout(ctx: StepContext, wake_us: int | None) -> None:
    """Schedule the global timeout once a wait may outlast it. A walk whose wait ends
    before its deadline needs no timer for it yet: it wakes first and checks again
    at its next wait (one timer row fewer per entry in most journeys)."""
    i = ctx.instance
    if not i.timeout_scheduled and (wake_us is None or wake_us >= i.deadline_us):
        i.timeout_scheduled = True
        ctx.emit(ScheduleTimer("timeout", i.deadline_us))


def _exit_criterion(ctx: StepContext, event: dict[str, Any]) -> bool:
    for criterion in ctx.spec.exit_criteria:
        if criterion.event is not None and event_matches(
            event, criterion.event, criterion.where, ctx.world.now_us
        ):
            return True
        if (
            criterion.audience_exited is not None
            and event.get("event") == "audience.exited"
            and (event.get("properties") or {}).get("audience") == criterion.audience_exited
        ):
            return True
    return False


def step(
    spec: JourneySpec, instance: Instance, given: Input, world: World
) -> tuple[Instance, list[Effect]]:
    """Apply one input to one instance; returns the new instance and the effects."""
    ctx = StepContext(spec, instance.clone(), world)
    i = ctx.instance
    if isinstance(given, Enter):
        i.context = {"entry": given.event or {}, **given.context, "steps": {}}
        ctx.emit(Emit("journey.entered", _props(ctx, node=spec.first)))
        advance(ctx, spec.first)
        return i, ctx.effects
    if i.done:
        return i, []
    if isinstance(given, Stop):
        finish(ctx, "exited", given.reason)
    elif isinstance(given, TimerFired) and given.key == "timeout":
        finish(ctx, "exited", "journey timeout")
    elif isinstance(given, EventInput) and _exit_criterion(ctx, given.event):
        finish(ctx, "exited", f"exit criterion: {given.event.get('event')}")
    elif i.waiting is not None:
        node = spec.node(i.waiting.node)
        resume = RESUMERS.get(node.type)
        move = resume(ctx, node, given) if resume else None
        if move is not None and _apply(ctx, node.id, move):
            assert isinstance(move, Goto)
            advance(ctx, move.next)
    return i, ctx.effects


def accepts(instance: Instance, given: Input) -> bool:
    """Whether an input can concern the instance at all (cheap routing check)."""
    if instance.done:
        return False
    if isinstance(given, TimerFired | HttpResult):
        return given.key == "timeout" or (
            instance.waiting is not None and instance.waiting.key == given.key
        )
    return isinstance(given, EventInput | Resume | Stop)
