"""What a definition depends on: the real-time processor indexes audiences by it.

An event can change an audience's membership only if its name is in `events`;
a trait change only if the changed path and one of `trait_paths` are equal or
one is a prefix of the other (`address` and `address.city`). Audiences with
`time_dependent` also change as time passes (see the evaluator's `next_change`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clarion.audiences.resolver import NO_REFERENCES, Resolver
from clarion.audiences.semantics import ADDRESS_NAMESPACES, outcome_event
from clarion.model.audience import Definition
from clarion.model.audience_conditions import DATE_OPERATORS
from clarion.model.audience_nodes import NodeBase, children


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The data an audience's membership is a function of."""

    events: frozenset[str]
    trait_paths: frozenset[str]
    identity_namespaces: frozenset[str]
    consent_channels: frozenset[str]
    audiences: frozenset[str]
    time_dependent: bool

    def trait_change_matters(self, changed_path: str) -> bool:
        """Whether a change of the trait at `changed_path` may change membership."""
        for path in self.trait_paths:
            shorter, longer = sorted((path, changed_path), key=len)
            if longer == shorter or longer.startswith(shorter + "."):
                return True
        return False


@dataclass
class _Found:
    events: set[str] = field(default_factory=set)
    traits: set[str] = field(default_factory=set)
    namespaces: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    audiences: set[str] = field(default_factory=set)
    timed: bool = False


def _trait(node: Any, found: _Found) -> None:
    found.traits.add(node.trait.path)
    found.timed |= node.trait.op in DATE_OPERATORS


def _events(spec: Any, found: _Found) -> None:
    found.events.add(spec.event)
    found.timed |= getattr(spec, "within", None) is not None


def _last_performed(node: Any, found: _Found) -> None:
    found.events.add(node.last_performed.event)
    found.timed |= not isinstance(node.last_performed.value, str)


def _outcome(node: Any, found: _Found) -> None:
    found.events.add(outcome_event(node.message_outcome.outcome))
    found.timed |= node.message_outcome.within is not None


def _subscribed(node: Any, found: _Found) -> None:
    found.channels.add(node.subscribed.channel)
    namespace = ADDRESS_NAMESPACES.get(node.subscribed.channel)
    if namespace:
        found.namespaces.add(namespace)


def _time(node: Any, found: _Found) -> None:
    found.timed = True


_RULES: dict[str, Callable[[Any, _Found], None]] = {
    "trait": _trait,
    "performed": lambda node, found: _events(node.performed, found),
    "not_performed": lambda node, found: _events(node.not_performed, found),
    "last_performed": _last_performed,
    "message_outcome": _outcome,
    "identity": lambda node, found: found.namespaces.add(node.identity.namespace),
    "subscribed": _subscribed,
    "time": _time,
}


def dependencies(definition: Definition, resolver: Resolver = NO_REFERENCES) -> Dependencies:
    """Event names, trait paths and other inputs the definition reads (in_audience included)."""
    found = _Found()
    _visit(definition, resolver, found)
    return Dependencies(
        frozenset(found.events),
        frozenset(found.traits),
        frozenset(found.namespaces),
        frozenset(found.channels),
        frozenset(found.audiences),
        found.timed,
    )


def _visit(node: NodeBase, resolver: Resolver, found: _Found) -> None:
    rule = _RULES.get(node.KIND)
    if rule is not None:
        rule(node, found)
    if node.KIND == "in_audience":
        name = node.in_audience.name  # type: ignore[attr-defined]
        if name not in found.audiences:
            found.audiences.add(name)
            spec = resolver.audience(name)
            if spec is not None and spec.definition is not None:
                _visit(spec.definition, resolver, found)
    for _, child in children(node):
        _visit(child, resolver, found)
