"""`custom_action`: an HTTP call made by the runtime; its answer comes back as an input.

A 2xx answer saves the requested response fields into the context and goes to
`next`; anything else (an error status, a timeout, a refused address) goes to
`error_next`, or, without one, makes the profile leave the journey.
"""

from __future__ import annotations

from typing import Any

from clarion.audiences.memory.values import MISSING, lookup
from clarion.journeys.io import CallHttp, HttpResult, Input
from clarion.journeys.state import Waiting
from clarion.journeys.step import Finish, Goto, Hold, Move, StepContext, handles, resumes
from clarion.journeys.templating import render, variables
from clarion.model.journeys import CustomActionNode


def _render(ctx: StepContext, source: str) -> str:
    profile = ctx.world.profile
    return render(source, variables(dict(profile.traits), profile.id, ctx.instance.context))


@handles("custom_action")
def custom_action(ctx: StepContext, node: CustomActionNode) -> Move:
    key = f"{node.id}:{ctx.visit(node.id)}"
    ctx.emit(
        CallHttp(
            key=key,
            node=node.id,
            method=node.method,
            url=_render(ctx, node.url),
            headers={k: _render(ctx, v) for k, v in node.headers.items()},
            body=_render(ctx, node.body) if node.body is not None else None,
            timeout_s=node.timeout.total_seconds(),
            retries=node.retries,
        )
    )
    return Hold(Waiting("http", node.id, key))


@resumes("custom_action")
def answered(ctx: StepContext, node: CustomActionNode, given: Input) -> Move | None:
    if not isinstance(given, HttpResult):
        return None
    steps: dict[str, Any] = ctx.instance.context.setdefault("steps", {})
    if given.status is not None and 200 <= given.status < 300:
        saved = {}
        for name, path in node.save.items():
            value = lookup(given.body, tuple(path.split("."))) if path else given.body
            if value is not MISSING:
                saved[name] = value
        ctx.instance.context.update(saved)
        steps[node.id] = {"status": given.status, "saved": saved}
        return Goto(node.next, f"answered {given.status}")
    error = given.error or f"status {given.status}"
    steps[node.id] = {"status": given.status, "error": error}
    if node.error_next is not None:
        return Goto(node.error_next, f"failed: {error}")
    return Finish("exited", f"custom action failed: {error}")
