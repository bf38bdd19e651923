"""Consent and subscriptions: the one rule every reader of consent applies.

A workspace has subscription groups per channel (e.g. "newsletter" on email),
each with a default: `opt_in` (nobody is subscribed until they say so) or
`opt_out` (everyone is, until they say otherwise). A profile may have a state
for a whole channel (group "") and per group; an address may have the same,
kept as a hash so that an opt-out survives erasure.

Effective state for a (channel, group):
1. an "unsubscribed" state for the whole channel (profile or address) wins;
2. otherwise an explicit state for the group (address first, then profile);
3. otherwise the group's default (a channel without a group: subscribed
   unless a whole-channel state says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

WHOLE_CHANNEL = ""
"""The group name that stands for every message of a channel."""

CHANNELS = (
    "email",
    "sms",
    "push",
    "in_app",
    "web",
    "code",
    "content_card",
    "direct_mail",
    "webhook",
)
"""The channels of PRODUCT.md (plus webhooks)."""


class Status(StrEnum):
    """An explicit consent state."""

    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


class GroupDefault(StrEnum):
    """What a subscription group assumes without an explicit state."""

    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class Source(StrEnum):
    """Where a consent change came from."""

    API = "api"
    IMPORT = "import"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    ONE_CLICK = "one_click"
    STOP_KEYWORD = "stop_keyword"
    START_KEYWORD = "start_keyword"
    COMPLAINT = "complaint"
    EVENT = "event"


def is_subscribed(
    *,
    channel_state: Status | None,
    group_state: Status | None,
    group_default: GroupDefault | None,
) -> bool:
    """The effective consent for one group of one channel.

    `channel_state` and `group_state` are the explicit states (address states
    already folded in by the caller: an unsubscribed address counts as an
    unsubscribed state); `group_default` is None when asking about the channel
    as a whole.
    """
    if channel_state is Status.UNSUBSCRIBED:
        return False
    if group_default is None:
        return True
    if group_state is not None:
        return group_state is Status.SUBSCRIBED
    return group_default is GroupDefault.OPT_OUT


def fold(*states: Status | None) -> Status | None:
    """Combine explicit states from several sources: an unsubscribe anywhere wins."""
    present = [s for s in states if s is not None]
    if not present:
        return None
    return Status.UNSUBSCRIBED if Status.UNSUBSCRIBED in present else Status.SUBSCRIBED


@dataclass(frozen=True, slots=True)
class SubscriptionGroup:
    """A named kind of message on one channel, with its default."""

    id: str
    workspace_id: str
    name: str
    channel: str
    default: GroupDefault
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentState:
    """An explicit consent state for a (channel, group), with its provenance."""

    channel: str
    group: str
    status: Status
    source: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One entry of the consent history (addresses only as hashes)."""

    id: str
    channel: str
    group: str
    status: Status
    source: str
    created_at: datetime
    profile_id: str | None
    address_hash: str | None
