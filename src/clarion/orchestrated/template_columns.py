"""Which `row.*` paths a template reads, and whether they flow into the channel activity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError

from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.plan import Columns

_ENV = Environment()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def row_paths(template: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The `row.a.b` paths (without `row`) that any Liquid text of the template reads."""
    found: set[tuple[str, ...]] = set()
    for text in _strings({k: v for k, v in template.items() if k not in ("kind", "name")}):
        if "{" not in text:
            continue
        try:
            analysis = _ENV.from_string(text).analyze()
        except LiquidError:
            continue  # the template kind reports its own syntax errors
        for variable in analysis.globals.get("row", []):
            segments = tuple(str(s) for s in variable.segments[1:] if isinstance(s, str))
            if segments:
                found.add(segments)
    return sorted(found)


def missing_columns(catalog: Catalog, columns: Columns, paths: list[tuple[str, ...]]) -> list[str]:
    """The paths that no column flowing in provides (as `row.a.b`)."""
    entity = catalog.entity(columns.dimension)
    enriched = columns.enrichment()
    missing = []
    for path in paths:
        head = path[0]
        if head in enriched or head in entity.attributes:
            continue
        if entity.is_profiles and head == "id":
            continue
        link = entity.links.get(head)
        if columns.secondary == head and columns.secondary_entity is not None:
            target = catalog.entity(columns.secondary_entity)
        elif link is not None and not link.many and link.target != "profiles":
            target = catalog.entity(link.target)
        else:
            missing.append("row." + ".".join(path))
            continue
        if len(path) > 1 and path[1] not in target.attributes:
            missing.append("row." + ".".join(path))
    return missing
