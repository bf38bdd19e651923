"""The identity stage's view of profiles while it processes one batch.

Everything a batch needs is loaded up front in a few queries, changed in
memory while the events are processed in order, and written back in one go
(`flush`), inside the stage's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from clarion.clock import to_micros
from clarion.ids import new_id
from clarion.model.events import NewEvent
from clarion.model.profiles import Identity, ProfileRecord
from clarion.profiles.rules import IdentityRules
from clarion.profiles.traits import merge_traits
from clarion.storage.base import Tx


class WorkingSet:
    """Profiles and identity owners of one workspace, for one batch."""

    def __init__(self, tx: Tx, workspace_id: str, rules: IdentityRules, now: datetime) -> None:
        self.tx = tx
        self.workspace_id = workspace_id
        self.rules = rules
        self.now = now
        self._owners: dict[Identity, str | None] = {}
        self.profiles: dict[str, ProfileRecord] = {}
        self.new: set[str] = set()
        self.dirty: set[str] = set()
        self.removed: dict[str, str] = {}
        self.assigned: dict[Identity, str] = {}
        self.merges: list[tuple[str, str, str]] = []
        self.internal: list[NewEvent] = []
        self._unmerged: set[str] = set()
        """Ids known (from one lookup per batch) never to have been merged away."""

    # --- loading -----------------------------------------------------------

    def prefetch(self, identities: Iterable[Identity]) -> None:
        """Load the owners of these identities and their profiles."""
        missing = [i for i in dict.fromkeys(identities) if i not in self._owners]
        if not missing:
            return
        found = self.tx.profiles.owners(self.workspace_id, missing)
        for identity in missing:
            self._owners[identity] = found.get(identity)
        self._load([pid for pid in found.values() if pid not in self.profiles])

    def _load(self, profile_ids: list[str]) -> None:
        if profile_ids:
            loaded = self.tx.profiles.load(self.workspace_id, profile_ids)
            self.profiles.update(loaded)
            for record in loaded.values():
                for identity in record.identities:
                    self._owners.setdefault(identity, record.id)

    def has_profile(self, profile_id: str) -> bool:
        """Whether the profile exists (loading it into the working set if it does)."""
        if profile_id not in self.profiles:
            self._load([profile_id])
        return profile_id in self.profiles

    def owner(self, identity: Identity) -> str | None:
        if identity not in self._owners:
            self.prefetch([identity])
        return self._owners[identity]

    def prefetch_merges(self, profile_ids: Iterable[str]) -> None:
        """Look up at once which of these ids (events already carrying a profile, such
        as Clarion's own) were merged away, so `follow` asks no more about the others."""
        wanted = [p for p in dict.fromkeys(profile_ids) if p not in self.profiles]
        if wanted:
            merged = self.tx.profiles.merged_away(self.workspace_id, wanted)
            self._unmerged.update(p for p in wanted if p not in merged)

    def follow(self, profile_id: str) -> str:
        """The surviving profile for an id that may have been merged away."""
        seen = set()
        while profile_id in self.removed and profile_id not in seen:
            seen.add(profile_id)
            profile_id = self.removed[profile_id]
        unmerged = profile_id in seen or profile_id in self._unmerged
        if profile_id not in self.profiles and not unmerged:
            survivor = self.tx.profiles.survivor(self.workspace_id, profile_id)
            if survivor is not None:
                return survivor
        return profile_id

    # --- changes -----------------------------------------------------------

    def create(self) -> ProfileRecord:
        record = ProfileRecord(new_id(), self.workspace_id, {}, {}, self.now, self.now)
        self.profiles[record.id] = record
        self.new.add(record.id)
        return record

    def touch(self, profile_id: str) -> None:
        self.profiles[profile_id].updated_at = self.now
        self.dirty.add(profile_id)

    def room_for(self, profile_id: str, identity: Identity) -> bool:
        namespace = identity[0]
        held = self.profiles[profile_id].values(namespace)
        return len(held) < self.rules.limit(namespace)

    def attach(self, identity: Identity, profile_id: str) -> None:
        """Give `identity` to `profile_id` (taking it from any other holder)."""
        previous = self._owners.get(identity)
        if previous is not None and previous in self.profiles:
            self.profiles[previous].identities.discard(identity)
        self._owners[identity] = profile_id
        self.assigned[identity] = profile_id
        self.profiles[profile_id].identities.add(identity)
        self.touch(profile_id)

    def merge(self, one: str, other: str, reason: str) -> str:
        """Merge two profiles; returns the survivor (the one with a user id, else the older)."""
        a, b = self.profiles[one], self.profiles[other]
        survivor, merged = (a, b) if _survives(a, b) else (b, a)
        for identity in list(merged.identities):
            self.attach(identity, survivor.id)
        merge_traits(survivor.traits, survivor.trait_times, merged.traits, merged.trait_times)
        survivor.timezone = survivor.timezone or merged.timezone
        survivor.locale = survivor.locale or merged.locale
        survivor.is_test = survivor.is_test or merged.is_test
        self.touch(survivor.id)
        self.removed[merged.id] = survivor.id
        del self.profiles[merged.id]
        self.merges.append((merged.id, survivor.id, reason))
        self.emit(
            "profile.merged",
            survivor.id,
            f"{merged.id}>{survivor.id}",
            {"merged_id": merged.id, "survivor_id": survivor.id, "reason": reason},
        )
        return survivor.id

    def emit(self, name: str, profile_id: str, key: str, properties: dict[str, object]) -> None:
        """Queue an internal event (appended to the log when the batch is flushed)."""
        self.internal.append(
            NewEvent(
                type="track",
                message_id=f"{name}:{key}:{to_micros(self.now)}",
                event=name,
                profile_id=profile_id,
                properties=properties,
                timestamp=self.now,
            )
        )

    # --- writing back ------------------------------------------------------

    def flush(self) -> None:
        profiles = self.tx.profiles
        ws = self.workspace_id
        profiles.insert([self.profiles[p] for p in self.new if p in self.profiles])
        profiles.update(
            [self.profiles[p] for p in self.dirty if p in self.profiles and p not in self.new]
        )
        profiles.assign(ws, [(i, self.follow(p)) for i, p in self.assigned.items()], self.now)
        for merged, survivor, reason in self.merges:
            profiles.record_merge(ws, merged, survivor, reason, self.now)
        profiles.delete(ws, [p for p in self.removed if p not in self.new])
        if self.internal:
            self.tx.events.append(ws, self.internal, self.now, seqs=False)


def _survives(a: ProfileRecord, b: ProfileRecord) -> bool:
    a_user, b_user = bool(a.values("user_id")), bool(b.values("user_id"))
    if a_user != b_user:
        return a_user
    return (a.created_at, a.id) <= (b.created_at, b.id)
