"""Liquid inside journeys (custom action bodies, profile updates), rendered in the step."""

from __future__ import annotations

from typing import Any

from clarion.delivery.liquid import CompiledTemplate, LiquidEngine

_ENGINE = LiquidEngine()
_CACHE: dict[str, CompiledTemplate] = {}


def render(source: str, variables: dict[str, Any]) -> str:
    """Render a Liquid string (parsed once per distinct source)."""
    template = _CACHE.get(source)
    if template is None:
        template = _CACHE[source] = _ENGINE.compile(source)
    return template.render(variables)


def variables(
    profile_traits: dict[str, Any], profile_id: str, context: dict[str, Any]
) -> dict[str, Any]:
    """What journey Liquid sees: `profile` and `context`."""
    return {"profile": {**profile_traits, "id": profile_id}, "context": context}
