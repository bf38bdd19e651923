"""Matching events against filters written in the audience language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clarion.audiences.memory.values import condition_test
from clarion.model.audience_conditions import Condition


def event_matches(
    event: dict[str, Any], name: str, where: Sequence[Condition], now_us: int
) -> bool:
    """The event is named `name` and its properties pass every condition."""
    if event.get("event") != name:
        return False
    properties = event.get("properties") or {}
    return all(condition_test(condition)(properties, now_us) for condition in where)
