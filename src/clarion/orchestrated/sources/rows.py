"""Rows given to `data load`: typed per the entity's attributes (CSV gives strings)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from clarion.orchestrated.catalog import Entity
from clarion.orchestrated.errors import BadData

SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


def _convert(kind: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and value == "" and kind != "string"):
        return None
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "integer":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def typed_rows(entity: Entity, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Each row as a tuple in attribute order; `BadData` names the row and column at fault."""
    names = list(entity.attributes)
    out: list[tuple[Any, ...]] = []
    seen: set[Any] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadData(f"row {i}: a row is an object of attribute values", field=f"rows[{i}]")
        unknown = set(row) - set(names)
        if unknown:
            raise BadData(
                f"row {i}: {entity.name} has no attribute {sorted(unknown)[0]!r}",
                field=f"rows[{i}]",
            )
        values = []
        for name in names:
            kind = entity.attributes[name]
            try:
                values.append(_convert(kind, row.get(name)))
            except (ValueError, TypeError):
                raise BadData(
                    f"row {i}: {name} = {row.get(name)!r} is not"
                    f" {'an' if kind[0] in 'aeiou' else 'a'} {kind}",
                    field=f"rows[{i}].{name}",
                ) from None
        key = values[names.index(entity.primary_key)]
        if key is None:
            raise BadData(f"row {i}: no {entity.primary_key}", field=f"rows[{i}]")
        if key in seen:
            raise BadData(
                f"row {i}: {entity.primary_key} {key!r} appears twice", field=f"rows[{i}]"
            )
        seen.add(key)
        out.append(tuple(values))
    return out


def parse_csv(text: str) -> list[dict[str, Any]]:
    """CSV with a header line as rows of strings."""
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]
