"""`end`: the profile completes the journey."""

from __future__ import annotations

from clarion.journeys.step import Finish, Move, StepContext, handles
from clarion.model.journeys import EndNode


@handles("end")
def end(ctx: StepContext, node: EndNode) -> Move:
    return Finish("completed", f"end ({node.id})")
