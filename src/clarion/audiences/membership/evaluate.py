"""Evaluating profiles against audiences and recording what changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from clarion.audiences.membership.changes import membership_event
from clarion.audiences.membership.index import AudienceIndex
from clarion.audiences.memory import AddressState, EventView, ProfileView
from clarion.audiences.semantics import TRACK
from clarion.clock import to_micros
from clarion.model.consent import ConsentState
from clarion.model.events import NewEvent
from clarion.profiles.consent import address_hash
from clarion.storage.base import ProfileFacts, Tx

ADDRESS_CHANNEL = {"email": "email", "phone": "sms"}


def _addresses(facts: ProfileFacts, namespace: str) -> list[str]:
    return sorted(v for ns, v in facts.identities if ns == namespace)


def views(
    tx: Tx, workspace_id: str, index: AudienceIndex, audiences: set[str], profile_ids: list[str]
) -> dict[str, ProfileView]:
    """Profile views with what these audiences read, loaded in bulk: traits, the track
    events of the names they use, and identities and consent only if one of them reads
    them (a view's `events` are then only those tracks)."""
    needs = [index.audiences[a].needs for a in audiences if a in index.audiences]
    consent = any(n.consent_channels for n in needs)
    loaded = tx.audiences.facts(
        workspace_id, profile_ids, consent or any(n.identity_namespaces for n in needs)
    )
    ids = list(loaded)
    names = sorted({e for n in needs for e in n.events})
    events = tx.events.tracks(workspace_id, ids, names) if names else {}
    states = tx.consent.profile_states_many(workspace_id, ids) if consent else {}
    by_address: dict[str, dict[str, list[ConsentState]]] = {}
    if consent:
        for namespace, channel in ADDRESS_CHANNEL.items():
            hashes = [
                address_hash(channel, a) for f in loaded.values() for a in _addresses(f, namespace)
            ]
            by_address[channel] = tx.consent.address_states_many(workspace_id, channel, hashes)
    found: dict[str, ProfileView] = {}
    for pid, facts in loaded.items():
        addresses: list[AddressState] = []
        for namespace, channel in ADDRESS_CHANNEL.items():
            held = by_address.get(channel)
            for address in _addresses(facts, namespace) if held else ():
                for state in held.get(address_hash(channel, address), []):  # type: ignore[union-attr]
                    addresses.append(
                        AddressState(channel, state.group, address, state.status.value)
                    )
        found[pid] = ProfileView(
            pid,
            facts.traits,
            sorted(facts.identities),
            {(s.channel, s.group): s.status.value for s in states.get(pid, [])},
            addresses,
            [EventView(TRACK, e.event, e.timestamp_us, e.properties) for e in events.get(pid, ())],
            facts.timezone,
        )
    return found


def reevaluate(
    tx: Tx, workspace_id: str, index: AudienceIndex, pairs: Iterable[tuple[str, str]], now: datetime
) -> int:
    """Evaluate (profile, audience) pairs; record memberships, entered/exited events and the
    next instant each may change by time alone. Returns how many memberships changed.

    Each pair is evaluated once, on the state stored now (every event of the batch
    included): a profile that entered and left again within the batch records nothing.
    """
    live = index.audiences
    wanted: dict[str, dict[str, None]] = {}  # profiles in pair order
    for pid, name in pairs:
        if name in live:
            names = wanted.get(pid)
            if names is None:
                wanted[pid] = {name: None}
            else:
                names[name] = None
    if not wanted:
        return 0
    now_us = to_micros(now)
    ids = list(wanted)
    audiences = {a for names in wanted.values() for a in names}
    seen = views(tx, workspace_id, index, audiences, ids)
    current, planned = tx.audiences.state(
        workspace_id,
        [(name, pid) for pid, names in wanted.items() for name in names],
        timed={a for a in audiences if live[a].compiled.timed},
    )
    events: list[NewEvent] = []
    entered: list[tuple[str, str]] = []
    exited: list[tuple[str, str]] = []
    timers: list[tuple[str, str, str, int]] = []
    cancels: list[tuple[str, str, str]] = []
    for pid, names in wanted.items():
        view = seen.get(pid)
        for name in sorted(names):  # a set's order would vary between processes
            audience = live[name]
            member, due = audience.compiled.at(view, now_us) if view is not None else (False, None)
            if member != ((name, pid) in current):
                (entered if member else exited).append((name, pid))
                kind = "audience.entered" if member else "audience.exited"
                events.append(membership_event(kind, pid, name, audience.version, now))
            before = planned.get((name, pid))
            if due is not None and due != before:
                timers.append((workspace_id, name, pid, due))
            elif due is None and before is not None:
                cancels.append((workspace_id, name, pid))
    tx.audiences.change(workspace_id, entered, exited, now_us)
    if events:
        tx.events.append(workspace_id, events, now, seqs=False)
    tx.audiences.schedule(timers)
    tx.audiences.cancel(cancels)
    return len(events)
