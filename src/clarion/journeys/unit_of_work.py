"""What one engine round reads and writes, batched.

Reads are prefetched for a whole batch of events (profiles, their walks in
progress, their last entries) and served from memory; writes (instances,
timers, message intents, journey events, statistics) are collected and written
in one statement each when the round flushes, inside the round's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from clarion.audiences.memory import ProfileView
from clarion.delivery import enqueue
from clarion.model.events import NewEvent
from clarion.model.messages import MessageIntent
from clarion.model.profiles import ProfileRecord
from clarion.storage.base import Tx

ACTIVE = ("active", "waiting")


class UnitOfWork:
    """Reads cached and writes buffered for one transaction of one workspace."""

    def __init__(self, tx: Tx, workspace_id: str, now: datetime, now_us: int) -> None:
        self.tx = tx
        self.workspace_id = workspace_id
        self.now = now
        self.now_us = now_us
        self.saved: dict[str, dict[str, Any]] = {}
        self.timers: dict[tuple[str, str], dict[str, Any]] = {}
        self.intents: list[MessageIntent] = []
        self.events: list[NewEvent] = []
        self.counters: dict[tuple[str, int, str, str], int] = {}
        """(journey, version, node, counter) -> delta, summed over the round."""
        self._profiles: dict[str, ProfileRecord | None] = {}
        self.views: dict[tuple[str, str, int], ProfileView] = {}
        """Profile views built for steps, by (profile, journey, version)."""
        self._active: dict[str, dict[str, dict[str, Any]]] = {}
        self._entries: dict[tuple[str, str], tuple[int, bool] | None] = {}
        self._moved: set[str] = set()
        self._known: set[str] = set()

    # --- reads -----------------------------------------------------------------

    def prefetch(self, profile_ids: Iterable[str]) -> None:
        """Load the profiles and their walks in progress, for a batch of events."""
        wanted = [p for p in dict.fromkeys(profile_ids) if p not in self._profiles]
        if not wanted:
            return
        loaded = self.tx.profiles.load(self.workspace_id, wanted)
        for pid in wanted:
            self._profiles[pid] = loaded.get(pid)
            self._active.setdefault(pid, {})
        for state in self.tx.journeys.active_of(self.workspace_id, wanted):
            self._active[state["profile_id"]][state["id"]] = state
        for (journey, pid), entered in self.tx.journeys.last_entries(
            self.workspace_id, wanted
        ).items():
            self._entries[(journey, pid)] = (
                entered,
                any(
                    s["journey"] == journey and s["status"] in ACTIVE
                    for s in self._active[pid].values()
                ),
            )
        for pid in wanted:
            self._known.add(pid)

    def profile(self, profile_id: str) -> ProfileRecord | None:
        if profile_id not in self._profiles:
            self.prefetch([profile_id])
        return self._profiles[profile_id]

    def active(self, profile_id: str) -> list[dict[str, Any]]:
        """The profile's walks in progress (as changed so far in this round)."""
        if profile_id not in self._active:
            self.prefetch([profile_id])
        return [s for s in self._active[profile_id].values() if s["status"] in ACTIVE]

    def awaits(self, profile_id: str, name: str) -> bool:
        """Whether a walk of the profile loaded or changed in this round waits for `name`."""
        return any(
            name in ((s.get("waiting") or {}).get("events") or ())
            for s in self._active.get(profile_id, {}).values()
            if s["status"] == "waiting"
        )

    def last_entry(self, journey: str, profile_id: str) -> tuple[int, bool] | None:
        key = (journey, profile_id)
        if key not in self._entries and profile_id in self._known:
            return None  # prefetched: the profile never entered this journey
        if key not in self._entries:
            self._entries[key] = self.tx.journeys.last_entry(self.workspace_id, journey, profile_id)
        return self._entries[key]

    # --- writes ----------------------------------------------------------------

    def save(self, state: dict[str, Any]) -> None:
        self.saved[state["id"]] = state
        pid = state["profile_id"]
        self._active.setdefault(pid, {})[state["id"]] = state
        key = (state["journey"], pid)
        known = self._entries.get(key)
        if known is None or state["entered_us"] >= known[0]:
            self._entries[key] = (state["entered_us"], state["status"] in ACTIVE)

    def moved(self, state: dict[str, Any], from_profile: str) -> None:
        """A walk now belongs to another profile (a merge)."""
        self._active.get(from_profile, {}).pop(state["id"], None)
        for key, timer in self.timers.items():
            if key[0] == state["id"]:
                timer["profile_id"] = state["profile_id"]
        self._moved.add(state["id"])
        self.save(state)

    def count(self, journey: str, version: int, node: str, counter: str, delta: int = 1) -> None:
        """Add to a statistic (written, summed, when the round flushes)."""
        key = (journey, version, node, counter)
        self.counters[key] = self.counters.get(key, 0) + delta

    def schedule(self, row: dict[str, Any]) -> None:
        self.timers[(row["instance_id"], row["key"])] = row

    def flush(self) -> None:
        """Write everything collected, one statement per kind."""
        tx = self.tx
        if self.saved:
            tx.journeys.save(list(self.saved.values()), self.now_us)
            for instance_id in self._moved:
                tx.journeys.move_timers(instance_id, self.saved[instance_id]["profile_id"])
            self._moved = set()
        done = {i for i, s in self.saved.items() if s["status"] not in ACTIVE}
        timers = [t for (instance, _), t in self.timers.items() if instance not in done]
        if timers:
            tx.journeys.schedule(timers)
        if self.intents:
            enqueue(tx, self.intents, self.now)
        if self.events:
            tx.events.append(self.workspace_id, self.events, self.now, seqs=False)
        if self.counters:
            ws = self.workspace_id
            tx.journeys.count([(ws, *key, delta) for key, delta in self.counters.items()])
        self.saved, self.timers, self.intents, self.events, self.counters = {}, {}, [], [], {}
