"""Who receives the message: the explicit address, or the profile's address for the channel."""

from __future__ import annotations

from typing import Any

import orjson

from clarion.channels.direct_mail import address_json, postal_address
from clarion.delivery.pipeline.candidate import BaseStage, Candidate, Decision, StageContext
from clarion.model.profiles import ProfileRecord

ADDRESS_IDENTITY = {"email": "email", "sms": "phone", "push": "device_token"}
ADDRESS_TRAIT = {"email": "email", "sms": "phone"}
PROFILE_ADDRESSED = frozenset({"in_app", "content_card", "web", "code"})
"""Inbound channels: the content is made eligible for the profile itself."""


def profile_address(candidate: Candidate, channel: str) -> str | None:
    """The profile's address on a channel: an identity first, then a trait."""
    profile = candidate.profile
    if profile is None:
        return None
    namespace = ADDRESS_IDENTITY.get(channel)
    if namespace:
        values = profile.values(namespace)
        if values:
            return values[0]
    trait = ADDRESS_TRAIT.get(channel)
    value = profile.traits.get(trait) if trait else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def postal_source(address: str | None, profile: ProfileRecord | None) -> dict[str, Any]:
    """Where a direct mail address is read: an explicit JSON address, or the profile's traits."""
    if address:
        try:
            given = orjson.loads(address)
        except orjson.JSONDecodeError:
            given = None
        return given if isinstance(given, dict) else {}
    return profile.traits if profile is not None else {}


class AddressStage(BaseStage):
    """Loads the batch's profiles and resolves each message's recipient address."""

    name = "address"

    def prepare(self, ctx: StageContext, candidates: list[Candidate]) -> None:
        ids = [c.item.intent.profile_id for c in candidates if c.item.intent.profile_id]
        profiles = ctx.tx.profiles.load(ctx.workspace_id, ids) if ids else {}
        for candidate in candidates:
            intent = candidate.item.intent
            candidate.profile = profiles.get(intent.profile_id) if intent.profile_id else None

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        intent = candidate.item.intent
        if intent.profile_id and candidate.profile is None and not intent.address:
            return Decision("skip", "profile_not_found")
        channel = intent.channel
        if channel in PROFILE_ADDRESSED:
            candidate.address = intent.address or intent.profile_id
        elif channel == "direct_mail":
            traits = postal_source(intent.address, candidate.profile)
            address, reason = postal_address(traits)
            if address is None:
                return Decision("skip", reason or "incomplete_address")
            candidate.address = address_json(address)
        elif channel == "webhook":
            candidate.address = intent.address or str(
                candidate.template.spec.get("url", "") if candidate.template else ""
            )
        else:
            candidate.address = intent.address or profile_address(candidate, channel)
        if channel == "email" and candidate.address and "@" not in candidate.address:
            return Decision("skip", "invalid_address")
        if not candidate.address:
            return Decision("skip", "no_address")
        return None
