"""The audience language's JSON access on Spark SQL, through two registered functions.

Spark has no `json_type`: `clarion_json_type(doc, path)` and
`clarion_json_text(doc, path)` (Python functions registered on the session by
`clarion.orchestrated.sources.spark`) return the JSON type name and the
scalar's text, so traits compare type-strictly as on the other engines.
"""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp

from clarion.audiences.sql.build import any_of, fn, text
from clarion.audiences.sql.dialects import JsonValue, SqlDialect, register_dialect
from clarion.audiences.sql.params import Params


def _find(doc: str | None, path: str) -> tuple[bool, Any]:
    if doc is None:
        return False, None
    try:
        value: Any = json.loads(doc)
    except ValueError:
        return False, None
    for segment in path.split("\x1f"):
        if not isinstance(value, dict) or segment not in value:
            return False, None
        value = value[segment]
    return True, value


def json_type(doc: str | None, path: str) -> str | None:
    """`null`, `boolean`, `number`, `string`, `array`, `object`, or None when missing."""
    found, value = _find(doc, path)
    if not found:
        return None
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def json_text(doc: str | None, path: str) -> str | None:
    """A scalar's text (`true`, `42.5`, the string itself); JSON text for the rest."""
    found, value = _find(doc, path)
    if not found or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return json.dumps(value)


class SparkJsonDialect(SqlDialect):
    """Traits and properties through the registered functions; RLIKE for shapes."""

    name = "spark"
    sqlglot = "spark"
    TYPE_NAMES = {k: (k,) for k in ("null", "boolean", "number", "string", "array", "object")}

    def json_at(self, doc: exp.Expr, path: tuple[str, ...], params: Params) -> JsonValue:
        bound = params.add("\x1f".join(path))
        return JsonValue(
            fn("clarion_json_type", doc.copy(), bound.copy()),
            fn("clarion_json_text", doc.copy(), bound.copy()),
            doc,
            bound,
        )

    def boolean(self, value: JsonValue) -> exp.Expr:
        from clarion.audiences.sql.build import cases, eq

        return cases(
            [
                (eq(value.payload.copy(), text("true")), exp.true()),
                (eq(value.payload.copy(), text("false")), exp.false()),
            ]
        )

    def matches_shapes(self, string: exp.Expr, shapes: tuple[str, ...]) -> exp.Expr:
        escaped = [s.replace(".", "\\.").replace("+", "\\+").replace("9", "[0-9]") for s in shapes]
        return any_of(
            exp.RegexpLike(this=string.copy(), expression=text(f"^({'|'.join(escaped)})$"))
        )

    def int_div(self, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        return exp.IntDiv(this=left, expression=right)


register_dialect(SparkJsonDialect())
