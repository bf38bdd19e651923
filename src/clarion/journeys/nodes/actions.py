"""`update_profile` (through the event log, as an identify) and `jump` (another journey)."""

from __future__ import annotations

from typing import Any

from clarion.journeys.io import EnterJourney, UpdateProfile
from clarion.journeys.step import Finish, Goto, Move, StepContext, handles
from clarion.journeys.templating import render, variables
from clarion.model.journeys import JumpNode, UpdateProfileNode


def _value(ctx: StepContext, value: Any) -> Any:
    if isinstance(value, str) and "{" in value:
        profile = ctx.world.profile
        return render(value, variables(dict(profile.traits), profile.id, ctx.instance.context))
    return value


@handles("update_profile")
def update_profile(ctx: StepContext, node: UpdateProfileNode) -> Move:
    values = {key: _value(ctx, value) for key, value in node.set.items()}
    ctx.emit(UpdateProfile(values, list(node.unset)))
    return Goto(node.next, "profile updated")


@handles("jump")
def jump(ctx: StepContext, node: JumpNode) -> Move:
    ctx.emit(
        EnterJourney(
            node.journey,
            {"from": ctx.instance.journey, "entry": ctx.instance.context.get("entry", {})},
        )
    )
    if node.next is None:
        return Finish("completed", f"jumped to {node.journey}")
    return Goto(node.next, f"entered {node.journey}")
