"""`message`: hand a message to the delivery pipeline (held while the journey is paused)."""

from __future__ import annotations

from clarion.journeys.io import Input, Resume, SendMessage
from clarion.journeys.state import Waiting
from clarion.journeys.step import Goto, Hold, Move, StepContext, handles, resumes
from clarion.model.journeys import MessageNode


@handles("message")
def message(ctx: StepContext, node: MessageNode) -> Move:
    if ctx.world.paused:
        return Hold(Waiting("held", node.id, f"{node.id}:{ctx.visit(node.id)}"))
    visit = ctx.visit(node.id)
    message_id = ctx.world.message_id(node.id, visit)
    ctx.instance.sent[node.id] = message_id
    ctx.emit(
        SendMessage(
            node.id,
            visit,
            node.channel,
            node.template,
            node.category,
            node.subscription_group,
            message_id,
        )
    )
    return Goto(node.next, f"sent {message_id}")


@resumes("message")
def released(ctx: StepContext, node: MessageNode, given: Input) -> Move | None:
    if isinstance(given, Resume) and not ctx.world.paused:
        return message(ctx, node)
    return None
