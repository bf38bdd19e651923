"""The journey engine: routes inputs to instances, enters profiles, runs steps.

One `JourneyEngine` works inside one transaction (a consumer batch, a round of
timers, an API call) on one workspace's catalog of running journeys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.clock import to_micros
from clarion.ids import new_id
from clarion.journeys import nodes  # noqa: F401  (registers the node handlers)
from clarion.journeys.apply import apply_effects, event_dict
from clarion.journeys.catalog import Catalog
from clarion.journeys.fanout import fan_out, members
from clarion.journeys.io import Enter, EventInput, Input, Stop
from clarion.journeys.matching import event_matches
from clarion.journeys.state import Instance
from clarion.journeys.step import accepts, step
from clarion.journeys.unit_of_work import UnitOfWork
from clarion.journeys.world import world_for
from clarion.model.durations import micros
from clarion.model.events import LoggedEvent
from clarion.model.journeys import JourneySpec
from clarion.storage.base import Tx


class JourneyEngine:
    """Runs journey steps for one workspace in one transaction."""

    def __init__(self, tx: Tx, workspace_id: str, now: datetime) -> None:
        self.tx = tx
        self.workspace_id = workspace_id
        self.now = now
        self.now_us = to_micros(now)
        self.catalog = Catalog(tx, workspace_id)
        self.uow = UnitOfWork(tx, workspace_id, now, self.now_us)
        self.messages_queued = 0
        self.instances_written = 0
        self._caps: dict[tuple[str, int], dict[str, int]] = {}
        self._awaited: set[tuple[str, str]] = set()

    # --- running steps ---------------------------------------------------------

    def _caps_of(self, journey: str, version: int) -> dict[str, int]:
        key = (journey, version)
        if key not in self._caps:
            self._caps[key] = {
                node: value
                for v, node, counter, value in self.tx.journeys.stats(self.workspace_id, journey)
                if v == version and counter == "capped"
            }
        return self._caps[key]

    def run(self, instance: Instance, given: Input) -> Instance:
        """One step of `instance`, its effects applied."""
        spec = self.catalog.spec(instance.journey, instance.version)
        if spec is None:
            return instance
        caps = self._caps_of(instance.journey, instance.version)
        world = world_for(self.catalog, self.uow, instance, self.now_us, caps)
        new, effects = step(spec, instance, given, world)
        if new != instance or effects:
            apply_effects(self, new, effects)
        return new

    def flush(self) -> None:
        """Write what this round did (in its transaction)."""
        self.messages_queued += len(self.uow.intents)
        self.instances_written += len(self.uow.saved)
        self.uow.flush()

    # --- entering --------------------------------------------------------------

    def may_enter(self, journey: str, spec: JourneySpec, profile_id: str) -> str | None:
        """Why the profile may not enter now (None: it may)."""
        last = self.uow.last_entry(journey, profile_id)
        rule = spec.reentry()
        if last is not None:
            entered_us, active = last
            if active:
                return "already in the journey"
            if rule.mode == "never":
                return "re-entrance not allowed"
            if rule.mode == "after" and self.now_us < entered_us + micros(rule.wait):
                return "re-entrance wait not over"
        caps = spec.caps
        if (
            caps.max_concurrent is not None
            and self.tx.journeys.count_instances(self.workspace_id, journey, active=True)
            >= caps.max_concurrent
        ):
            return "concurrency cap reached"
        if (
            caps.max_entries is not None
            and self.tx.journeys.count_instances(self.workspace_id, journey, active=False)
            >= caps.max_entries
        ):
            return "entry cap reached"
        return None

    def enter(
        self,
        journey: str,
        profile_id: str,
        event: dict[str, Any] | None,
        context: dict[str, Any] | None = None,
    ) -> Instance | None:
        """Enter the profile into the live version, if the journey's rules allow."""
        running = self.catalog.journeys.get(journey)
        if running is None or running.state.status != "live" or running.live is None:
            return None
        spec = running.live
        version = running.state.live_version or 0
        refused = self.may_enter(journey, spec, profile_id)
        if refused is not None:
            self.uow.count(journey, version, "entry", f"refused:{refused}")
            return None
        instance = Instance(
            id=new_id(),
            workspace_id=self.workspace_id,
            journey_id=running.journey_id,
            journey=journey,
            version=version,
            profile_id=profile_id,
            entered_us=self.now_us,
            deadline_us=self.now_us + micros(spec.timeout),
        )
        return self.run(instance, Enter(event, context or {}))

    def enter_by_name(
        self,
        journey: str,
        profile_id: str,
        event: dict[str, Any] | None,
        context: dict[str, Any] | None = None,
    ) -> Instance | None:
        return self.enter(journey, profile_id, event, context)

    # --- routing events --------------------------------------------------------

    def routed(self, events: list[LoggedEvent]) -> list[LoggedEvent]:
        """The events that concern journeys as the batch starts: entries, exits and merges,
        and events that a waiting walk of their profile reacts to (one lookup for the
        batch). Only their profiles need loading: most events on the log concern none."""
        names = self.catalog.routed
        others = [e.profile_id for e in events if (e.event or e.type) not in names]
        self._awaited = self.tx.journeys.awaited(
            self.workspace_id, [p for p in others if p is not None]
        )
        return [e for e in events if self.routes(e)]

    def routes(self, event: LoggedEvent) -> bool:
        """Whether the event may concern a journey (see `routed`); walks that started
        waiting earlier in this round count too."""
        name, profile_id = event.event or event.type, event.profile_id
        return profile_id is not None and (
            name in self.catalog.routed
            or (profile_id, name) in self._awaited
            or self.uow.awaits(profile_id, name)
        )

    def on_event(self, event: LoggedEvent) -> None:
        """Route one stamped event: to instances waiting for it, to exit criteria, to entries."""
        profile_id = event.profile_id
        if profile_id is None or not self.routes(event):
            return
        data = event_dict(event)
        name = event.event or event.type
        if name == "profile.merged":
            self.on_merge(str(event.properties.get("merged_id")), profile_id)
        exits = name in self.catalog.exit_events
        for state in self.uow.active(profile_id):
            waiting = state.get("waiting") or {}
            if not exits and name not in (waiting.get("events") or []):
                continue
            instance = Instance.from_json(state)
            if instance.journey in self.catalog.journeys and accepts(instance, EventInput(data)):
                self.run(instance, EventInput(data))
        self._entries(event, data, profile_id, name)

    def on_merge(self, merged_id: str, survivor_id: str) -> None:
        """A merged-away profile's walks continue as the survivor's, unless the survivor is
        already in that journey: then the merged walk ends."""
        mine = {s["journey"] for s in self.uow.active(survivor_id)}
        for state in self.uow.active(merged_id):
            instance = Instance.from_json(state)
            if instance.journey not in self.catalog.journeys:
                continue
            if instance.journey in mine:
                self.run(instance, Stop("merged into a profile already in the journey"))
                continue
            instance.profile_id = survivor_id
            instance.history.append([instance.node, self.now_us, "profile merged"])
            self.uow.moved(instance.to_json(), merged_id)

    def _entries(
        self, event: LoggedEvent, data: dict[str, Any], profile_id: str, name: str
    ) -> None:
        for journey in self.catalog.by_event.get(name, []):
            spec = self.catalog.journeys[journey].live
            if spec is None:
                continue
            entry = spec.entry
            version = self.catalog.journeys[journey].state.live_version or 0
            if entry.type == "business_event":
                fan_out(self, journey, members(self, entry.audience), {"business_event": data})
                continue
            if entry.type != "event" or not event_matches(
                data, entry.event, entry.where, self.now_us
            ):
                continue
            if self.now_us - event.timestamp_us > micros(entry.max_age):
                self.uow.count(journey, version, "entry", "stale")
                continue
            self.enter(journey, profile_id, data)
        if name in ("audience.entered", "audience.exited"):
            audience = event.properties.get("audience")
            for journey in self.catalog.by_audience.get(str(audience), []):
                spec = self.catalog.journeys[journey].live
                if spec is not None and f"audience.{spec.entry.when}" == name:  # type: ignore[union-attr]
                    self.enter(journey, profile_id, data)
