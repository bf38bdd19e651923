"""The identity stage: the first consumer of the log.

For each event, in order, it resolves the identities the event names to the
surviving profile (creating, linking or merging profiles by the workspace's
rules), applies identify traits, time zone, locale and (secret-key) consent,
and stamps the event with the profile id. Every later consumer reads only
events this stage has processed (`poll(after="identity")`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from clarion.clock import Clock
from clarion.model.consent import WHOLE_CHANNEL, Source, Status
from clarion.model.events import LoggedEvent
from clarion.model.profiles import Identity, priority
from clarion.profiles.rules import IdentityRules, event_identities, normalise
from clarion.profiles.traits import apply_traits
from clarion.profiles.working_set import WorkingSet
from clarion.storage.base import ConsumerBatch, Tx

IDENTITY_STAGE = "identity"
_TIMEZONES = frozenset(available_timezones())


def identity_hash(workspace_id: str, identity: Identity) -> str:
    """The tombstone form of an identity: SHA-256, scoped to the workspace."""
    return hashlib.sha256(f"{workspace_id}:{identity[0]}:{identity[1]}".encode()).hexdigest()


class IdentityStage:
    """Resolves, links and stamps events with profile ids (a log `Consumer`)."""

    name = IDENTITY_STAGE

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._new_identities = 0
        self._known_identities = 0

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        now = self._clock.now()
        by_workspace = itertools.groupby(
            sorted(batch.events, key=lambda e: e.workspace_id), key=lambda e: e.workspace_id
        )
        for workspace_id, group in by_workspace:
            rules = IdentityRules.from_settings(tx.workspaces.settings(workspace_id))
            work = _Batch(tx, workspace_id, rules, now)
            work.run(list(group))
            self._new_identities += len(work.ws.assigned)
        if self._new_identities > max(2_000, self._known_identities):
            tx.profiles.refresh_statistics()
            self._known_identities += self._new_identities
            self._new_identities = 0


class _Batch:
    def __init__(self, tx: Tx, workspace_id: str, rules: IdentityRules, now: datetime) -> None:
        self.tx = tx
        self.ws = WorkingSet(tx, workspace_id, rules, now)
        self.rules = rules

    def run(self, events: Sequence[LoggedEvent]) -> None:
        wanted = {e.seq: self._identities(e) for e in events if e.profile_id is None}
        dropped = self._tombstoned(wanted)
        self.ws.prefetch(i for ids in wanted.values() for i in ids)
        self.ws.prefetch_merges(e.profile_id for e in events if e.profile_id is not None)
        stamps: list[tuple[int, str]] = []
        for event in events:
            if event.seq in dropped:
                continue
            if event.profile_id is not None:
                survivor = self.ws.follow(event.profile_id)
                if survivor != event.profile_id:
                    stamps.append((event.seq, survivor))
                if event.type == "identify" and self.ws.has_profile(survivor):
                    self._apply(survivor, event)  # Clarion's own profile updates (journeys)
                continue
            identities = wanted[event.seq]
            if not identities:
                continue  # only placeholder ids ("null", "0"): left unattributed
            profile_id = self._link(identities, event)
            self._apply(profile_id, event)
            stamps.append((event.seq, profile_id))
        self.ws.flush()
        self.tx.events.stamp([(seq, self.ws.follow(pid)) for seq, pid in stamps])
        self.tx.events.drop(sorted(dropped))

    def _identities(self, event: LoggedEvent) -> list[Identity]:
        identities = event_identities(event)
        previous = event.payload.get("previousId")
        if event.type == "alias" and isinstance(previous, str | int) and str(previous).strip():
            value = normalise("user_id", str(previous))
            as_user = ("user_id", value)
            if self.ws.owner(as_user) is not None and as_user not in identities:
                identities.append(as_user)
            elif ("anonymous_id", value) not in identities:
                identities.append(("anonymous_id", value))
        return sorted(identities, key=lambda i: priority(i[0]))

    def _tombstoned(self, wanted: dict[int, list[Identity]]) -> set[int]:
        if not self.tx.tombstones.any(self.ws.workspace_id):
            return set()
        hashes = {
            seq: [identity_hash(self.ws.workspace_id, i) for i in ids]
            for seq, ids in wanted.items()
        }
        erased = self.tx.tombstones.matching(
            self.ws.workspace_id, [h for hs in hashes.values() for h in hs]
        )
        if not erased:
            return set()
        counts: Counter[str] = Counter()
        dropped = set()
        for seq, hs in hashes.items():
            hit = next((h for h in hs if h in erased), None)
            if hit is not None:
                dropped.add(seq)
                counts[hit] += 1
        self.tx.tombstones.count_dropped(self.ws.workspace_id, dict(counts))
        return dropped

    def _link(self, identities: list[Identity], event: LoggedEvent) -> str:
        ws = self.ws
        user = next((i for i in identities if i[0] == "user_id"), None)
        primary = self._primary(identities, user)
        reason = f"{event.type} linked identities"
        for identity in identities:
            owner = ws.owner(identity)
            if owner == primary:
                continue
            if owner is None:
                self._attach(identity, primary)
            elif identity[0] in self.rules.merge_on and self._can_merge(primary, owner):
                primary = ws.merge(primary, owner, reason)
            elif identity[0] == "anonymous_id" and self._user_conflict(primary, owner):
                # A shared device: the anonymous id follows the newer user.
                ws.attach(identity, primary)
                self._refused(primary, owner, "different user ids; anonymous id moved")
            elif identity[0] in self.rules.merge_on:
                self._refused(primary, owner, "merge would exceed an identity limit")
        return primary

    def _primary(self, identities: list[Identity], user: Identity | None) -> str:
        ws = self.ws
        if user is not None:
            owner = ws.owner(user)
            if owner is not None:
                return owner
            anonymous = [
                ws.profiles[o]
                for i in identities
                if i[0] in self.rules.merge_on
                and (o := ws.owner(i)) is not None
                and not ws.profiles[o].values("user_id")
            ]
            if anonymous:
                return min(anonymous, key=lambda p: (p.created_at, p.id)).id
            return ws.create().id
        # Without a user id, only linking namespaces choose the profile: an
        # anonymous visitor who types someone's email does not become them.
        for identity in identities:
            owner = ws.owner(identity)
            if owner is not None and identity[0] in self.rules.merge_on:
                return owner
        return ws.create().id

    def _attach(self, identity: Identity, profile_id: str) -> None:
        if self.ws.room_for(profile_id, identity):
            self.ws.attach(identity, profile_id)
        elif identity[0] == "user_id":
            self._refused(profile_id, None, "profile already has a user id")
        else:
            self._refused(profile_id, None, f"{identity[0]} limit reached")

    def _user_conflict(self, one: str, other: str) -> bool:
        a = self.ws.profiles[one].values("user_id")
        b = self.ws.profiles[other].values("user_id")
        return bool(a and b and a != b)

    def _can_merge(self, one: str, other: str) -> bool:
        if self._user_conflict(one, other):
            return False
        union = self.ws.profiles[one].identities | self.ws.profiles[other].identities
        counts = Counter(ns for ns, _ in union)
        return all(n <= self.rules.limit(ns) for ns, n in counts.items())

    def _refused(self, profile_id: str, other: str | None, reason: str) -> None:
        key = f"{profile_id}:{other}:{len(self.ws.internal)}"
        self.ws.emit(
            "profile.merge_refused", profile_id, key, {"reason": reason, "other_profile_id": other}
        )

    def _apply(self, profile_id: str, event: LoggedEvent) -> None:
        record = self.ws.profiles[profile_id]
        payload: dict[str, Any] = event.payload
        context = payload.get("context") or {}
        changed = False
        if event.type == "identify":
            traits = payload.get("traits") or {}
            changed = apply_traits(record.traits, record.trait_times, traits, event.timestamp_us)
        timezone = context.get("timezone") or record.traits.get("timezone")
        if isinstance(timezone, str) and timezone in _TIMEZONES and timezone != record.timezone:
            record.timezone, changed = timezone, True
        locale = context.get("locale") or record.traits.get("locale")
        if isinstance(locale, str) and 0 < len(locale) <= 35 and locale != record.locale:
            record.locale, changed = locale, True
        if changed:
            self.ws.touch(profile_id)
        device = context.get("device")
        token = device.get("token") if isinstance(device, dict) else None
        if isinstance(token, str) and 0 < len(token.strip()) <= 300:
            self._device_token(profile_id, token.strip())
        consent = context.get("consent")
        if event.origin != "write_key" and isinstance(consent, dict):
            self._consent(profile_id, consent)

    def _device_token(self, profile_id: str, token: str) -> None:
        """`context.device.token`: a push token, moved from any profile that held it."""
        identity = ("device_token", token)
        if self.ws.owner(identity) != profile_id and self.ws.room_for(profile_id, identity):
            self.ws.attach(identity, profile_id)

    def _consent(self, profile_id: str, changes: dict[str, Any]) -> None:
        """`context.consent`: `{"email": "unsubscribed", "email:newsletter": "subscribed"}`."""
        for key, value in changes.items():
            if not isinstance(key, str) or value not in ("subscribed", "unsubscribed"):
                continue
            channel, _, group = key.partition(":")
            self.tx.consent.set_profile_state(
                self.ws.workspace_id,
                profile_id,
                channel,
                group or WHOLE_CHANNEL,
                Status(value),
                Source.EVENT.value,
                self.ws.now,
            )
