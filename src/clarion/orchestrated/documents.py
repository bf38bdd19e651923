"""Finding a workspace's schema and canvases among its stored documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from clarion.model.audience import problems_of
from clarion.model.documents import Problem, StoredDocument
from clarion.orchestrated.canvas import CanvasSpec
from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.errors import InvalidCanvas, InvalidSchema, NoSchema, UnknownCanvas
from clarion.orchestrated.schema import SchemaSpec
from clarion.storage.base import Tx

SCHEMA_NAME = "default"
TAGS = frozenset(
    {
        "build_audience",
        "combine",
        "deduplicate",
        "enrich",
        "split",
        "change_dimension",
        "save_audience",
        "wait",
        "scheduler",
        "fork",
        "and_join",
        "channel",
        "end",
    }
)


def parse_schema(spec: Mapping[str, Any]) -> tuple[SchemaSpec | None, list[Problem]]:
    """A schema document, or its problems."""
    try:
        return SchemaSpec.model_validate(dict(spec)), []
    except ValidationError as exc:
        return None, problems_of(exc)


def parse_canvas(spec: Mapping[str, Any]) -> tuple[CanvasSpec | None, list[Problem]]:
    """A canvas document, or its problems (paths from `activities[i]`)."""
    try:
        return CanvasSpec.model_validate(dict(spec)), []
    except ValidationError as exc:
        return None, [_by_activity(spec, p) for p in problems_of(exc)]


def _by_activity(spec: Mapping[str, Any], problem: Problem) -> Problem:
    """`activities[2].template` as `send.template` when activity 2 has an id."""
    match = re.match(r"^activities\[(\d+)\](.*)$", problem.path)
    activities = spec.get("activities")
    if not match or not isinstance(activities, list):
        return problem
    index = int(match.group(1))
    raw = activities[index] if index < len(activities) else None
    ident = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(ident, str):
        return problem
    rest = match.group(2)
    tag = rest[1:].split(".")[0].split("[")[0]
    if tag in TAGS:  # the union's tag pydantic puts in the path
        rest = rest[1 + len(tag) :]
    return Problem(ident + rest, problem.message)


def load_catalog(tx: Tx, workspace_id: str) -> Catalog:
    """The workspace's catalog; `NoSchema` without a schema document."""
    stored = tx.documents.get(workspace_id, "schema", SCHEMA_NAME)
    if stored is None:
        raise NoSchema("apply a `kind: schema` document first", field="schema")
    spec, problems = parse_schema(stored.spec)
    if spec is None:
        raise InvalidSchema(problems)
    return Catalog(spec)


def find_canvas(tx: Tx, workspace_id: str, ref: str) -> tuple[StoredDocument, CanvasSpec]:
    """A canvas by id or name; `UnknownCanvas` when there is none."""
    stored = tx.documents.get(workspace_id, "canvas", ref)
    if stored is None:
        by_id = tx.documents.get_by_id(workspace_id, ref)
        stored = by_id if by_id is not None and by_id.kind == "canvas" else None
    if stored is None:
        raise UnknownCanvas(f"no canvas {ref!r}", field="canvas")
    spec, problems = parse_canvas({**stored.spec, "name": stored.name})
    if spec is None:
        raise InvalidCanvas(problems)
    return stored, spec
