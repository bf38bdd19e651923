"""The running journeys of a workspace, indexed for routing events.

Built once per consumer batch: live, paused and closed journeys (instances of
closed journeys still move), each version a profile may be on, and indexes by
entry event, audience and exit-criterion event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clarion.audiences.dependencies import dependencies
from clarion.audiences.kind import TxResolver
from clarion.journeys.validate import parse
from clarion.model.journeys import JourneySpec
from clarion.storage.base import JourneyState, Tx


@dataclass
class RunningJourney:
    """A journey with its lifecycle state and its versions, loaded on demand."""

    state: JourneyState
    journey_id: str
    versions: dict[int, JourneySpec] = field(default_factory=dict)
    _pins: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)

    @property
    def live(self) -> JourneySpec | None:
        version = self.state.live_version
        return self.versions.get(version) if version is not None else None

    def pinned(self, version: int) -> dict[str, int]:
        """The template versions pinned when `version` was published (by template name)."""
        found = self._pins.get(version)
        if found is None:
            pins = self.state.pinned.get(str(version)) or {}
            found = self._pins[version] = {str(k): int(v) for k, v in pins.items()}
        return found


@dataclass
class Needs:
    """What a journey version's conditions read besides traits."""

    events: frozenset[str]
    consent: bool


class Catalog:
    """The running journeys of one workspace."""

    def __init__(self, tx: Tx, workspace_id: str) -> None:
        self.tx = tx
        self.workspace_id = workspace_id
        self.resolver = TxResolver(tx, workspace_id)
        self.journeys: dict[str, RunningJourney] = {}
        self.by_event: dict[str, list[str]] = {}
        self.by_audience: dict[str, list[str]] = {}
        self.exit_events: set[str] = set()
        self._needs: dict[tuple[str, int], Needs] = {}
        for state in tx.journeys.running(workspace_id):
            doc = tx.documents.get(workspace_id, "journey", state.journey)
            if doc is None or state.live_version is None:
                continue
            running = RunningJourney(state, doc.id)
            self.journeys[state.journey] = running
            spec = self.spec(state.journey, state.live_version)
            if spec is None or state.status != "live":
                continue
            entry = spec.entry
            if entry.type in ("event", "business_event"):
                self.by_event.setdefault(entry.event, []).append(state.journey)
            elif entry.type == "audience":
                self.by_audience.setdefault(entry.audience, []).append(state.journey)
        for name, running in self.journeys.items():
            spec = self.spec(name, running.state.live_version or 0)
            for criterion in spec.exit_criteria if spec else []:
                self.exit_events.add(criterion.event or "audience.exited")
        self.routed = {*self.by_event, *self.exit_events, "profile.merged"}
        """Event names that concern journeys whatever the profile (entries, exits, merges);
        other events concern only profiles waiting for them."""
        if self.by_audience:
            self.routed |= {"audience.entered", "audience.exited"}

    def spec(self, journey: str, version: int) -> JourneySpec | None:
        """The journey as it was at `version` (instances finish on the version they entered)."""
        running = self.journeys.get(journey)
        if running is None:
            return None
        if version not in running.versions:
            doc = self.tx.documents.version(self.workspace_id, "journey", journey, version)
            parsed = parse(doc.spec)[0] if doc else None
            if parsed is None:
                return None
            running.versions[version] = parsed
        return running.versions[version]

    def needs(self, journey: str, version: int) -> Needs:
        key = (journey, version)
        if key not in self._needs:
            spec = self.spec(journey, version)
            events: set[str] = set()
            consent = False
            for node in spec.nodes if spec else []:
                for branch in getattr(node, "branches", []) or []:
                    found = dependencies(branch.when, self.resolver)
                    events |= found.events
                    consent = consent or bool(found.consent_channels)
            self._needs[key] = Needs(frozenset(events), consent)
        return self._needs[key]
