"""`reaction`: wait for an event or an outcome of an earlier message, or time out."""

from __future__ import annotations

from clarion.journeys.io import EventInput, Input, TimerFired
from clarion.journeys.matching import event_matches
from clarion.journeys.state import Waiting
from clarion.journeys.step import Goto, Hold, Move, StepContext, handles, resumes
from clarion.model.durations import micros
from clarion.model.journeys import Awaited, ReactionNode


def _name(awaited: Awaited) -> str:
    return awaited.event if awaited.event is not None else f"message.{awaited.outcome}"


@handles("reaction")
def reaction(ctx: StepContext, node: ReactionNode) -> Move:
    key = f"{node.id}:{ctx.visit(node.id)}"
    due = ctx.world.now_us + micros(node.timeout)
    names = sorted({_name(a) for a in node.events})
    return Hold(Waiting("events", node.id, key, due_us=due, events=names))


def _matches(ctx: StepContext, awaited: Awaited, event: dict[str, object]) -> bool:
    if awaited.event is not None:
        return event_matches(event, awaited.event, awaited.where, ctx.world.now_us)
    properties = event.get("properties") or {}
    sent = ctx.instance.sent.get(str(awaited.message_node))
    return (
        event.get("event") == f"message.{awaited.outcome}"
        and sent is not None
        and isinstance(properties, dict)
        and properties.get("message_id") == sent
    )


@resumes("reaction")
def react(ctx: StepContext, node: ReactionNode, given: Input) -> Move | None:
    if isinstance(given, TimerFired):
        return Goto(node.timeout_next, "timed out")
    if isinstance(given, EventInput):
        for awaited in node.events:
            if _matches(ctx, awaited, given.event):
                return Goto(awaited.next, f"reacted to {_name(awaited)}")
    return None
