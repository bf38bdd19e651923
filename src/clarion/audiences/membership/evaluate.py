"""Evaluating profiles against audiences and recording what changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from clarion.audiences.membership.index import AudienceIndex
from clarion.audiences.memory import AddressState, EventView, ProfileView
from clarion.audiences.semantics import TRACK
from clarion.clock import to_micros
from clarion.ids import new_id
from clarion.model.consent import ConsentState
from clarion.model.events import NewEvent
from clarion.profiles.consent import address_hash
from clarion.storage.base import Tx

ADDRESS_CHANNEL = {"email": "email", "phone": "sms"}


def views(
    tx: Tx, workspace_id: str, index: AudienceIndex, audiences: set[str], profile_ids: list[str]
) -> dict[str, ProfileView]:
    """Profile views with what these audiences read (events, consent), loaded in bulk."""
    records = tx.profiles.load(workspace_id, profile_ids)
    needs = [index.audiences[a].needs for a in audiences if a in index.audiences]
    names = sorted({e for n in needs for e in n.events})
    events = tx.events.tracks(workspace_id, list(records), names) if names else {}
    consent = any(n.consent_channels for n in needs)
    states = tx.consent.profile_states_many(workspace_id, list(records)) if consent else {}
    by_address: dict[str, dict[str, list[ConsentState]]] = {}
    if consent:
        for namespace, channel in ADDRESS_CHANNEL.items():
            hashes = [
                address_hash(channel, a) for r in records.values() for a in r.values(namespace)
            ]
            by_address[channel] = tx.consent.address_states_many(workspace_id, channel, hashes)
    found: dict[str, ProfileView] = {}
    for pid, record in records.items():
        addresses: list[AddressState] = []
        for namespace, channel in ADDRESS_CHANNEL.items():
            held = by_address.get(channel, {})
            for address in record.values(namespace) if held else ():
                for state in held.get(address_hash(channel, address), []):
                    addresses.append(
                        AddressState(channel, state.group, address, state.status.value)
                    )
        found[pid] = ProfileView(
            pid,
            record.traits,
            sorted(record.identities),
            {(s.channel, s.group): s.status.value for s in states.get(pid, [])},
            addresses,
            [EventView(TRACK, e.event, e.timestamp_us, e.properties) for e in events.get(pid, ())],
            record.timezone,
        )
    return found


def reevaluate(
    tx: Tx, workspace_id: str, index: AudienceIndex, pairs: Iterable[tuple[str, str]], now: datetime
) -> int:
    """Evaluate (profile, audience) pairs; record memberships, entered/exited events and the
    next instant each may change by time alone. Returns how many memberships changed."""
    wanted: dict[str, set[str]] = {}
    for pid, name in pairs:
        if name in index.audiences:
            wanted.setdefault(pid, set()).add(name)
    if not wanted:
        return 0
    now_us = to_micros(now)
    audiences = {a for names in wanted.values() for a in names}
    seen = views(tx, workspace_id, index, audiences, list(wanted))
    current = tx.audiences.memberships(workspace_id, list(wanted))
    planned = tx.audiences.timers(workspace_id, list(wanted))
    events: list[NewEvent] = []
    entered: list[tuple[str, str]] = []
    exited: list[tuple[str, str]] = []
    timers: list[tuple[str, str, str, int]] = []
    cancels: list[tuple[str, str, str]] = []
    for pid, names in wanted.items():
        view = seen.get(pid)
        held = current.get(pid, ())
        for name in sorted(names):
            audience = index.audiences[name]
            member = view is not None and audience.compiled.holds(view, now_us)
            was = name in held
            if member != was:
                (entered if member else exited).append((name, pid))
                kind = "audience.entered" if member else "audience.exited"
                events.append(
                    NewEvent(
                        type="track",
                        message_id=f"{kind}:{new_id()}",
                        event=kind,
                        profile_id=pid,
                        timestamp=now,
                        properties={"audience": name, "audience_version": audience.version},
                        origin="internal",
                    )
                )
            due = audience.compiled.next_change(view, now_us) if view is not None else None
            before = planned.get((name, pid))
            if due is not None and due != before:
                timers.append((workspace_id, name, pid, due))
            elif due is None and before is not None:
                cancels.append((workspace_id, name, pid))
    tx.audiences.change(workspace_id, entered, exited, now_us)
    if events:
        tx.events.append(workspace_id, events, now)
    tx.audiences.schedule(timers)
    tx.audiences.cancel(cancels)
    return len(events)
