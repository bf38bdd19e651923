"""Traits: shallow merge per key by last-updated time; `null` removes a key.

Each key remembers when it was last set or removed (µs, the event's time), so
an event arriving late with an older timestamp never overwrites a newer value,
and a removed key is not brought back by an older event.
"""

from __future__ import annotations

from typing import Any


def apply_traits(
    traits: dict[str, Any], times: dict[str, int], changes: dict[str, Any], at_us: int
) -> bool:
    """Apply an identify call's traits in place; True if anything changed."""
    changed = False
    for key, value in changes.items():
        if times.get(key, -1) > at_us:
            continue
        times[key] = at_us
        if value is None:
            if key in traits:
                del traits[key]
                changed = True
        elif traits.get(key, _MISSING) != value:
            traits[key] = value
            changed = True
    return changed


def merge_traits(
    traits: dict[str, Any],
    times: dict[str, int],
    other_traits: dict[str, Any],
    other_times: dict[str, int],
) -> None:
    """Fold another profile's traits in place: for each key the newer write wins."""
    for key, at in other_times.items():
        if at > times.get(key, -1):
            times[key] = at
            if key in other_traits:
                traits[key] = other_traits[key]
            else:
                traits.pop(key, None)
    for key, value in other_traits.items():
        if key not in other_times and key not in traits:
            traits[key] = value


_MISSING = object()
