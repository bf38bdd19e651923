"""Reading and changing consent: the one place every package goes through.

The rule itself is `clarion.model.consent.is_subscribed`; this module gathers
the states it needs (profile, its addresses, the group's default) and records
changes with their source and history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion.ids import new_id
from clarion.model.consent import (
    CHANNELS,
    WHOLE_CHANNEL,
    ConsentState,
    Status,
    fold,
    is_subscribed,
)
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.events import NewEvent
from clarion.profiles.rules import normalise
from clarion.storage.base import Tx

ADDRESS_NAMESPACE = {"email": "email", "sms": "phone", "direct_mail": "postal"}
"""Which identity namespace holds a channel's addresses."""


def address_hash(channel: str, address: str) -> str:
    """SHA-256 of a normalised address: how an opt-out outlives an erasure."""
    namespace = ADDRESS_NAMESPACE.get(channel, channel)
    return hashlib.sha256(normalise(namespace, address).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ConsentChangeRequest:
    """One requested change: channel, group ("" for the whole channel), status."""

    channel: str
    group: str
    status: Status


def parse_change(raw: Any, field: str) -> ConsentChangeRequest:
    """A change from `{"channel", "group"?, "status"}`, or a 400 naming the field."""
    if not isinstance(raw, dict):
        raise InvalidInput("must be an object with channel and status", field=field)
    channel = raw.get("channel")
    if channel not in CHANNELS:
        raise InvalidInput(
            f"channel must be one of {', '.join(CHANNELS)}", field=f"{field}.channel"
        )
    group = raw.get("group") or WHOLE_CHANNEL
    if not isinstance(group, str):
        raise InvalidInput("group is a subscription group name", field=f"{field}.group")
    try:
        status = Status(str(raw.get("status")))
    except ValueError:
        raise InvalidInput(
            "status is subscribed or unsubscribed", field=f"{field}.status"
        ) from None
    return ConsentChangeRequest(channel, group, status)


def check_group(tx: Tx, workspace_id: str, change: ConsentChangeRequest, field: str) -> None:
    """A named group must exist on the change's channel."""
    if change.group == WHOLE_CHANNEL:
        return
    group = tx.consent.group(workspace_id, change.group)
    if group is None:
        raise InvalidInput(f"no subscription group {change.group!r}", field=f"{field}.group")
    if group.channel != change.channel:
        raise InvalidInput(
            f"group {change.group!r} is on {group.channel}, not {change.channel}",
            field=f"{field}.group",
        )


def _addresses(tx: Tx, workspace_id: str, profile_id: str, channel: str) -> list[str]:
    record = tx.profiles.get(workspace_id, profile_id)
    namespace = ADDRESS_NAMESPACE.get(channel)
    return record.values(namespace) if record and namespace else []


def _explicit(states: list[ConsentState], channel: str, group: str) -> Status | None:
    return next((s.status for s in states if s.channel == channel and s.group == group), None)


def is_profile_subscribed(
    tx: Tx,
    workspace_id: str,
    profile_id: str | None,
    channel: str,
    group: str = WHOLE_CHANNEL,
    address: str | None = None,
) -> bool:
    """Effective consent of a profile (and/or an address) for one group of a channel."""
    profile_states = tx.consent.profile_states(workspace_id, profile_id) if profile_id else []
    addresses = [address] if address else []
    if profile_id:
        addresses += _addresses(tx, workspace_id, profile_id, channel)
    address_states = [
        s
        for a in dict.fromkeys(addresses)
        for s in tx.consent.address_states(workspace_id, channel, address_hash(channel, a))
    ]
    definition = tx.consent.group(workspace_id, group) if group else None
    return is_subscribed(
        channel_state=fold(
            _explicit(profile_states, channel, WHOLE_CHANNEL),
            _explicit(address_states, channel, WHOLE_CHANNEL),
        ),
        group_state=fold(
            _explicit(address_states, channel, group), _explicit(profile_states, channel, group)
        )
        if group
        else None,
        group_default=definition.default if definition else None,
    )


def subscriptions_view(tx: Tx, workspace_id: str, profile_id: str) -> list[dict[str, Any]]:
    """Every group and every channel with a state: effective and explicit consent."""
    states = tx.consent.profile_states(workspace_id, profile_id)
    groups = tx.consent.groups(workspace_id)
    channels = sorted({g.channel for g in groups} | {s.channel for s in states})
    items: list[dict[str, Any]] = []
    for channel in channels:
        entries = [(WHOLE_CHANNEL, None)] + [(g.name, g) for g in groups if g.channel == channel]
        for name, group in entries:
            state = next((s for s in states if s.channel == channel and s.group == name), None)
            items.append(
                {
                    "channel": channel,
                    "group": name or None,
                    "subscribed": is_profile_subscribed(
                        tx, workspace_id, profile_id, channel, name
                    ),
                    "default": group.default.value if group else None,
                    "state": state.status.value if state else None,
                    "source": state.source if state else None,
                    "updated_at": state.updated_at if state else None,
                }
            )
    return items


def set_profile_consent(
    tx: Tx,
    workspace_id: str,
    profile_id: str,
    changes: list[ConsentChangeRequest],
    source: str,
    now: datetime,
) -> None:
    """Record consent changes for a profile (with history)."""
    if tx.profiles.get(workspace_id, profile_id) is None:
        raise NotFound(f"no profile {profile_id!r}")
    for change in changes:
        tx.consent.set_profile_state(
            workspace_id, profile_id, change.channel, change.group, change.status, source, now
        )
    # On the log too, so that audiences on consent follow at once.
    tx.events.append(
        workspace_id,
        [
            NewEvent(
                type="track",
                message_id=f"profile.consent_changed:{new_id()}",
                event="profile.consent_changed",
                profile_id=profile_id,
                timestamp=now,
                properties={
                    "changes": [
                        {"channel": c.channel, "group": c.group, "status": c.status.value}
                        for c in changes
                    ],
                    "source": source,
                },
                origin="internal",
            )
        ],
        now,
    )


def set_address_consent(
    tx: Tx,
    workspace_id: str,
    address: str,
    change: ConsentChangeRequest,
    source: str,
    now: datetime,
) -> str:
    """Record consent for an address that may have no profile; returns its hash."""
    digest = address_hash(change.channel, address)
    namespace = ADDRESS_NAMESPACE.get(change.channel, change.channel)
    tx.consent.set_address_state(
        workspace_id,
        change.channel,
        digest,
        normalise(namespace, address),
        change.group,
        change.status,
        source,
        now,
    )
    return digest
