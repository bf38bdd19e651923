"""Suppression lists: hard bounces, complaints, invalid and manually blocked addresses."""

from __future__ import annotations

from clarion.delivery.pipeline.candidate import (
    BaseStage,
    Candidate,
    Decision,
    StageContext,
    recipient_hash,
)

HARD = frozenset({"hard_bounce", "invalid_address", "manual"})
"""Reasons that stop transactional messages too; a complaint stops marketing only."""


class SuppressionStage(BaseStage):
    """Skips messages to suppressed addresses (for their channel or every channel)."""

    name = "suppression"

    def prepare(self, ctx: StageContext, candidates: list[Candidate]) -> None:
        self._found: dict[tuple[str, str], str] = {}
        by_channel: dict[str, set[str]] = {}
        for candidate in candidates:
            if candidate.address and candidate.decision is None:
                channel = candidate.item.intent.channel
                by_channel.setdefault(channel, set()).add(
                    recipient_hash(channel, candidate.address)
                )
        for channel, hashes in by_channel.items():
            for digest, reason in ctx.tx.suppressions.matching(
                ctx.workspace_id, channel, sorted(hashes)
            ).items():
                self._found[(channel, digest)] = reason

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        if not candidate.address:
            return None
        channel = candidate.item.intent.channel
        reason = self._found.get((channel, recipient_hash(channel, candidate.address)))
        if reason is None or (not candidate.marketing and reason not in HARD):
            return None
        return Decision("skip", f"suppressed:{reason}")
