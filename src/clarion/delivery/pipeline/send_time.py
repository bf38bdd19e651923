"""Send-time optimisation: a hook that may move a message to a better moment.

The model comes later; the default optimiser keeps every message's time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from clarion.delivery.pipeline.candidate import BaseStage, Candidate, Decision, StageContext


class SendTimeOptimizer(Protocol):
    """Chooses when a message should go out (None: now)."""

    def best_time(self, ctx: StageContext, candidate: Candidate) -> datetime | None: ...


class SendNow:
    """The default: no optimisation."""

    def best_time(self, ctx: StageContext, candidate: Candidate) -> datetime | None:
        return None


class SendTimeStage(BaseStage):
    """Defers a message to the optimiser's moment when that is later than now."""

    name = "send_time"

    def __init__(self, optimizer: SendTimeOptimizer | None = None) -> None:
        self.optimizer = optimizer or SendNow()

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        moment = self.optimizer.best_time(ctx, candidate)
        if moment is not None and moment > ctx.now:
            return Decision("defer", "send_time", moment)
        return None
