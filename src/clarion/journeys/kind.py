"""Journeys as a document kind: validated as a graph when saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.audiences.resolver import SubscriptionGroup
from clarion.documents import DocumentKind, ValidationContext
from clarion.journeys.validate import check_conditions, check_graph, check_templates, parse
from clarion.model.audience import AudienceSpec, parse_audience
from clarion.model.documents import Problem, Ref
from clarion.model.journeys import JourneySpec


class _ContextResolver:
    """Audiences as the apply batch (or the store) has them."""

    def __init__(self, ctx: ValidationContext) -> None:
        self._ctx = ctx

    def audience(self, name: str) -> AudienceSpec | None:
        found = self._ctx.find(Ref("audience", name))
        try:
            return parse_audience(found) if found is not None else None
        except Exception:
            return None

    def subscription_group(self, name: str) -> SubscriptionGroup | None:
        return None  # subscription groups are checked when a message is sent


def references_of(journey: JourneySpec) -> list[Ref]:
    """Templates, audiences and journeys a journey refers to by name."""
    refs = set()
    entry = journey.entry
    if getattr(entry, "audience", None):
        refs.add(Ref("audience", entry.audience))  # type: ignore[union-attr]
    for criterion in journey.exit_criteria:
        if criterion.audience_exited:
            refs.add(Ref("audience", criterion.audience_exited))
    for node in journey.nodes:
        if node.type == "message":
            refs.add(Ref("template", node.template))
        elif node.type == "jump":
            refs.add(Ref("journey", node.journey))
    return sorted(refs)


class JourneyKind(DocumentKind):
    """`kind: journey`."""

    kind = "journey"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        journey, problems = parse(spec)
        if journey is None:
            return problems
        problems = check_graph(journey)
        problems += check_conditions(journey, _ContextResolver(ctx))
        problems += check_templates(journey, lambda name: ctx.find(Ref("template", name)))
        return problems

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        journey, _ = parse(spec)
        if journey is None:
            return []
        return [r for r in references_of(journey) if r != Ref("journey", journey.name)]
