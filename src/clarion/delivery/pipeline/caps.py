"""Frequency caps: at most N messages per window, per channel and/or category.

Workspace settings, e.g. `{"frequency_caps": [{"limit": 3, "window": "7d",
"channel": "email"}]}`; a cap counts marketing messages unless it names a
`category`, and transactional messages never count or get capped. Sends are
counted in a ledger in the same transaction that claims them, under a lock per
profile, so two dispatchers can never both take the last slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clarion.clock import to_micros
from clarion.delivery.pipeline.candidate import BaseStage, Candidate, Decision, StageContext
from clarion.model.durations import micros, parse_duration


@dataclass(frozen=True, slots=True)
class CapRule:
    """At most `limit` messages per `window_us`, for a channel and a category (None: any)."""

    limit: int
    window_us: int
    channel: str | None
    category: str

    def applies(self, channel: str, category: str) -> bool:
        return (self.channel in (None, channel)) and self.category == category


def cap_rules(settings: dict[str, Any]) -> list[CapRule]:
    """The workspace's caps (malformed entries are ignored; settings are validated on save)."""
    rules = []
    for raw in settings.get("frequency_caps") or []:
        try:
            rules.append(
                CapRule(
                    int(raw["limit"]),
                    micros(parse_duration(str(raw["window"]))),
                    raw.get("channel"),
                    raw.get("category", "marketing"),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return rules


class FrequencyCapStage(BaseStage):
    """Skips a message that would exceed a cap; admitted messages are counted."""

    name = "frequency_cap"

    def __init__(self) -> None:
        self._rules: list[CapRule] = []
        self._sends: dict[str, list[tuple[str, str, int]]] = {}
        self.admitted: dict[str, Candidate] = {}

    def prepare(self, ctx: StageContext, candidates: list[Candidate]) -> None:
        self._rules = cap_rules(ctx.settings)
        self._sends = {}
        self.admitted = {}
        if not self._rules:
            return
        profiles = sorted(
            {
                c.item.intent.profile_id
                for c in candidates
                if c.item.intent.profile_id and c.marketing
            }
        )
        ctx.tx.ledger.lock_profiles(ctx.workspace_id, profiles)
        longest = max(rule.window_us for rule in self._rules)
        since = to_micros(ctx.now) - longest
        for pid, channel, category, sent_at in ctx.tx.ledger.since(
            ctx.workspace_id, profiles, since
        ):
            self._sends.setdefault(pid, []).append((channel, category, sent_at))

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        intent = candidate.item.intent
        if not self._rules or not intent.profile_id or intent.category.value != "marketing":
            return None
        now = to_micros(ctx.now)
        sends = self._sends.setdefault(intent.profile_id, [])
        for rule in self._rules:
            if not rule.applies(intent.channel, "marketing"):
                continue
            # The window includes its first instant: a send exactly 7 days ago still counts.
            recent = sum(
                1 for ch, cat, at in sends if at >= now - rule.window_us and rule.applies(ch, cat)
            )
            if recent >= rule.limit:
                scope = rule.channel or "any channel"
                return Decision(
                    "skip",
                    f"frequency_cap:{rule.limit} per {rule.window_us // 1_000_000}s on {scope}",
                )
        sends.append((intent.channel, "marketing", now))
        self.admitted[candidate.item.id] = candidate
        return None

    def release(self, ctx: StageContext, candidate: Candidate) -> None:
        if self.admitted.pop(candidate.item.id, None) is None:
            return
        intent = candidate.item.intent
        sends = self._sends.get(intent.profile_id or "", [])
        mark = (intent.channel, "marketing", to_micros(ctx.now))
        if mark in sends:
            sends.remove(mark)

    def ledger_rows(self, ctx: StageContext) -> list[dict[str, Any]]:
        """Rows to count the admitted messages that are going out."""
        return [
            {
                "message_id": c.item.id,
                "workspace_id": ctx.workspace_id,
                "profile_id": c.item.intent.profile_id,
                "channel": c.item.intent.channel,
                "category": "marketing",
                "sent_at": to_micros(ctx.now),
            }
            for c in self.admitted.values()
            if c.decision is None
        ]
