"""Consent: opted-out recipients get no marketing (transactional messages pass)."""

from __future__ import annotations

from clarion.delivery.pipeline.address import ADDRESS_IDENTITY
from clarion.delivery.pipeline.candidate import (
    BaseStage,
    Candidate,
    Decision,
    StageContext,
    recipient_hash,
)
from clarion.model.consent import (
    WHOLE_CHANNEL,
    ConsentState,
    GroupDefault,
    Status,
    fold,
    is_subscribed,
)


def _explicit(states: list[ConsentState], channel: str, group: str) -> Status | None:
    return next((s.status for s in states if s.channel == channel and s.group == group), None)


class ConsentStage(BaseStage):
    """Applies `clarion.model.consent.is_subscribed` to marketing messages."""

    name = "consent"

    def prepare(self, ctx: StageContext, candidates: list[Candidate]) -> None:
        marketing = [c for c in candidates if c.marketing]
        if not marketing:
            return
        self._groups: dict[str, GroupDefault] = {
            g.name: g.default for g in ctx.tx.consent.groups(ctx.workspace_id)
        }
        ids = [c.item.intent.profile_id for c in marketing if c.item.intent.profile_id]
        self._profile_states = ctx.tx.consent.profile_states_many(ctx.workspace_id, ids)
        self._address_states: dict[tuple[str, str], list[ConsentState]] = {}
        by_channel: dict[str, set[str]] = {}
        for candidate in marketing:
            channel = candidate.item.intent.channel
            by_channel.setdefault(channel, set()).update(self._hashes(candidate))
        for channel, hashes in by_channel.items():
            found = ctx.tx.consent.address_states_many(ctx.workspace_id, channel, sorted(hashes))
            for digest, states in found.items():
                self._address_states[(channel, digest)] = states

    def _hashes(self, candidate: Candidate) -> set[str]:
        channel = candidate.item.intent.channel
        addresses = {candidate.address} if candidate.address else set()
        namespace = ADDRESS_IDENTITY.get(channel)
        if candidate.profile is not None and namespace:
            addresses.update(candidate.profile.values(namespace))
        return {recipient_hash(channel, a) for a in addresses if a}

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        if not candidate.marketing:
            return None
        intent = candidate.item.intent
        channel = intent.channel
        profile_states = self._profile_states.get(intent.profile_id or "", [])
        address_states = [
            s for h in self._hashes(candidate) for s in self._address_states.get((channel, h), [])
        ]
        group = candidate.group or WHOLE_CHANNEL
        default = self._groups.get(group) if group else None
        if group and default is None:
            return Decision("skip", f"unknown_subscription_group:{group}")
        subscribed = is_subscribed(
            channel_state=fold(
                _explicit(profile_states, channel, WHOLE_CHANNEL),
                _explicit(address_states, channel, WHOLE_CHANNEL),
            ),
            group_state=fold(
                _explicit(address_states, channel, group), _explicit(profile_states, channel, group)
            )
            if group
            else None,
            group_default=default,
        )
        return None if subscribed else Decision("skip", "unsubscribed")
