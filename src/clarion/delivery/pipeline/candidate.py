"""What flows through the pipeline stages: one claimed message and its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, Protocol

from clarion.delivery.templates import CompiledMessageTemplate
from clarion.model.messages import QueuedMessage
from clarion.model.profiles import ProfileRecord
from clarion.profiles.consent import address_hash
from clarion.storage.base import Tx


@lru_cache(maxsize=32768)
def recipient_hash(channel: str, address: str) -> str:
    """`address_hash`, remembered: consent and suppression each look a batch's
    addresses up in `prepare` and again in `check`."""
    return address_hash(channel, address)


@dataclass(frozen=True, slots=True)
class Decision:
    """A stage's verdict on a message that does not go out now."""

    kind: Literal["skip", "defer", "fail"]
    reason: str
    until: datetime | None = None
    """For `defer`: when to try again."""


@dataclass(slots=True)
class Candidate:
    """A claimed message on its way through the stages."""

    item: QueuedMessage
    template: CompiledMessageTemplate | None = None
    profile: ProfileRecord | None = None
    address: str | None = None
    group: str | None = None
    decision: Decision | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def marketing(self) -> bool:
        return self.item.intent.category.value == "marketing"


@dataclass
class StageContext:
    """What stages may read: the claim transaction, the time, the workspace's settings."""

    tx: Tx
    workspace_id: str
    now: datetime
    settings: dict[str, Any]


class Stage(Protocol):
    """One rule of the pipeline.

    Stages run in order, each over the whole batch: `prepare` loads what the
    batch needs in a few queries, then `check` judges each message still in
    the running (None: it may go on). A stage that reserves something when it
    admits a message (a cap slot, a throttle token) gives it back in `release`
    when a later stage holds the message back.
    """

    name: str

    def prepare(self, ctx: StageContext, candidates: list[Candidate]) -> None: ...

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None: ...

    def release(self, ctx: StageContext, candidate: Candidate) -> None: ...


class BaseStage:
    """Default no-op hooks."""

    name = "stage"

    def prepare(self, ctx: StageContext, candidates: list[Candidate]) -> None:
        return None

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        return None

    def release(self, ctx: StageContext, candidate: Candidate) -> None:
        return None


def run_stages(ctx: StageContext, stages: list[Stage], candidates: list[Candidate]) -> None:
    """Run every stage over the batch; each message ends with a decision or none (send)."""
    for index, stage in enumerate(stages):
        live = [c for c in candidates if c.decision is None]
        if not live:
            return
        stage.prepare(ctx, live)
        for candidate in live:
            decision = stage.check(ctx, candidate)
            if decision is not None:
                candidate.decision = decision
                for earlier in stages[:index]:
                    earlier.release(ctx, candidate)
