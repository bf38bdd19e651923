"""A workspace's dynamic audiences, compiled, and which changes can affect each."""

from __future__ import annotations

from dataclasses import dataclass

from clarion.audiences.dependencies import Dependencies, dependencies
from clarion.audiences.kind import TxResolver
from clarion.audiences.membership.relevance import event_filters
from clarion.audiences.memory import CompiledAudience, compile_audiences
from clarion.model.audience import AudienceSpec, Definition, parse_audience
from clarion.model.documents import StoredDocument
from clarion.model.events import LoggedEvent
from clarion.storage.base import Page, Tx

SIGNATURES_KEPT = 10_000
"""Event signatures an index remembers the answer for (then it starts over)."""

CONSENT_EVENT = "profile.consent_changed"
MEMBERSHIP_EVENTS = frozenset({"audience.entered", "audience.exited"})
_SPECIAL = {CONSENT_EVENT, *MEMBERSHIP_EVENTS}


@dataclass(frozen=True)
class LiveAudience:
    """A dynamic audience ready for evaluation."""

    name: str
    version: int
    compiled: CompiledAudience
    needs: Dependencies


class AudienceIndex:
    """The dynamic audiences of one workspace, indexed by what they depend on."""

    def __init__(self, tx: Tx, workspace_id: str) -> None:
        self.resolver = TxResolver(tx, workspace_id)
        self.audiences: dict[str, LiveAudience] = {}
        definitions: dict[str, Definition] = {}
        specs: list[tuple[StoredDocument, AudienceSpec]] = []
        for doc in tx.documents.list(workspace_id, "audience", Page(limit=100_000)):
            try:
                spec = parse_audience(doc.spec)
            except ValueError:
                continue
            self.resolver.remember(doc.name, spec)  # in_audience then reads no document again
            specs.append((doc, spec))
        dynamic = {
            doc.name: (doc, spec.definition) for doc, spec in specs if spec.definition is not None
        }
        # Compiled together: an audience others refer to is evaluated once per profile.
        compiled = compile_audiences({n: d for n, (_, d) in dynamic.items()}, self.resolver)
        for name, (doc, definition) in dynamic.items():
            done = compiled[name]
            if not isinstance(done, CompiledAudience):
                continue  # not compilable in memory (e.g. it references a list audience)
            definitions[name] = definition
            self.audiences[name] = LiveAudience(
                name, doc.version, done, dependencies(definition, self.resolver)
            )
        self._by_event: dict[str, set[str]] = {}
        self._filters = {
            name: event_filters(spec, self.resolver) for name, spec in definitions.items()
        }
        self._by_signature: dict[tuple[object, ...], frozenset[str]] = {}
        for name, audience in self.audiences.items():
            for event_name in audience.needs.events:
                self._by_event.setdefault(event_name, set()).add(name)

    def affected(self, event: LoggedEvent) -> set[str]:
        """The audiences whose membership this event may change for its profile."""
        if event.event == "profile.merged":
            return set(self.audiences)
        if event.event in MEMBERSHIP_EVENTS and event.properties.get("audience") in self.audiences:
            # Audiences that refer to a live audience inline its definition: they were
            # re-evaluated on the very events that changed it, and share its timers.
            return set()
        plain_track = event.type == "track" and event.event not in _SPECIAL
        if plain_track and "consent" not in (event.payload.get("context") or {}):
            name = event.event or ""  # only the event can matter, and only if a `where` lets it
            return {a for a in self._by_event.get(name, ()) if self._passes(a, name, event)}
        key = _signature(event)
        found = self._by_signature.get(key)
        if found is None:
            found = frozenset(
                name for name, audience in self.audiences.items() if concerns(audience.needs, event)
            )
            if len(self._by_signature) >= SIGNATURES_KEPT:  # a kept index lives long
                self._by_signature.clear()
            self._by_signature[key] = found
        return set(found)

    def _passes(self, audience: str, name: str, event: LoggedEvent) -> bool:
        """Whether the event's properties pass some `where` the audience has on `name`."""
        test = self._filters[audience].get(name)
        return test is None or test(event.properties)


class IndexCache:
    """Each workspace's `AudienceIndex`, kept from one batch to the next while what it
    was built from is unchanged: its audience documents (by id and version) and its
    subscription groups (the `subscribed` nodes read their defaults when compiled).
    Building it (reading, parsing and compiling every audience) costs more than those
    two small reads. A kept index is only used to evaluate: its resolver, which reads
    documents in the transaction that built the index, served compilation alone."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[object, AudienceIndex]] = {}

    def get(self, tx: Tx, workspace_id: str) -> AudienceIndex:
        """The workspace's index as of `tx`."""
        key = (
            tx.documents.stamps(workspace_id, "audience"),
            [(g.name, g.channel, g.default) for g in tx.consent.groups(workspace_id)],
        )
        kept = self._kept.get(workspace_id)
        if kept is not None and kept[0] == key:
            return kept[1]
        index = AudienceIndex(tx, workspace_id)
        self._kept[workspace_id] = (key, index)
        return index


def _signature(event: LoggedEvent) -> tuple[object, ...]:
    """Everything of an event that `concerns` reads: equal signatures concern the same
    audiences (identifies with the same trait keys, for one)."""
    context = event.payload.get("context") or {}
    traits = event.payload.get("traits") if event.type == "identify" else None
    audience = event.properties.get("audience") if event.event in _SPECIAL else None
    return (
        event.type,
        event.event,
        "consent" in context,
        audience if isinstance(audience, str) else None,  # other values name no audience
        frozenset(map(str, traits)) if isinstance(traits, dict) else None,
    )


def concerns(needs: Dependencies, event: LoggedEvent) -> bool:
    """Whether an audience with these dependencies can change with this event."""
    if event.event is not None and event.event in needs.events:
        return True
    if event.event in ("audience.entered", "audience.exited"):
        return event.properties.get("audience") in needs.audiences
    context = event.payload.get("context") or {}
    if needs.consent_channels and (event.event == CONSENT_EVENT or "consent" in context):
        return True
    if event.type == "alias":
        return bool(needs.identity_namespaces)
    traits = event.payload.get("traits") if event.type == "identify" else None
    if not isinstance(traits, dict):
        return False
    if any(needs.trait_change_matters(str(key)) for key in traits):
        return True
    return bool({"email", "phone"} & needs.identity_namespaces & set(traits))
