"""`condition`, `split` (stable per profile) and `cap` (the first N profiles)."""

from __future__ import annotations

import mmh3

from clarion.journeys.conditions import JourneyView, holds
from clarion.journeys.io import Count
from clarion.journeys.step import Goto, Move, StepContext, handles
from clarion.model.journeys import CapNode, ConditionNode, SplitNode


def view(ctx: StepContext) -> JourneyView:
    """The profile with the instance's context, for conditions."""
    p = ctx.world.profile
    return JourneyView(
        p.id,
        p.traits,
        p.identities,
        p.subscriptions,
        p.address_states,
        p.events,
        p.timezone,
        context=ctx.instance.context,
        default_timezone=ctx.world.default_timezone,
    )


@handles("condition")
def condition(ctx: StepContext, node: ConditionNode) -> Move:
    seen = view(ctx)
    for index, branch in enumerate(node.branches):
        if holds(branch.when, seen, ctx.world.now_us, ctx.world.resolver):
            ctx.emit(Count(node.id, f"branch:{index}"))
            return Goto(branch.next, f"branch {index} -> {branch.next}")
    ctx.emit(Count(node.id, "branch:otherwise"))
    return Goto(node.otherwise, f"otherwise -> {node.otherwise}")


def bucket(seed: str, profile_id: str) -> float:
    """A stable number in [0, 100) for a profile (MurmurHash3 of the seed and the id)."""
    return mmh3.hash(f"{seed}:{profile_id}", signed=False) % 10_000 / 100


@handles("split")
def split(ctx: StepContext, node: SplitNode) -> Move:
    point = bucket(node.seed or f"{ctx.instance.journey}:{node.id}", ctx.instance.profile_id)
    total = 0.0
    for index, path in enumerate(node.paths):
        total += path.percent
        if point < total or index == len(node.paths) - 1:
            ctx.emit(Count(node.id, f"branch:{index}"))
            return Goto(path.next, f"split {index} -> {path.next}")
    raise AssertionError("percentages add up to 100")


@handles("cap")
def cap(ctx: StepContext, node: CapNode) -> Move:
    taken = ctx.world.caps.get(node.id, 0)
    if taken < node.limit:
        ctx.world.caps[node.id] = taken + 1
        ctx.emit(Count(node.id, "capped"))
        return Goto(node.next, f"within the cap ({taken + 1}/{node.limit})")
    ctx.emit(Count(node.id, "branch:otherwise"))
    return Goto(node.otherwise, "over the cap")
