"""`kind: schema` and `kind: canvas` documents: validated when applied.

A canvas is checked against the schema (applied in the same batch or stored):
its graph (known targets, no cycles), its filters and paths (declared
attributes and links), every transition's columns, and its channel activities'
templates (each `row.*` they read must flow into the activity). Problems name
the activity id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clarion.documents import DocumentKind, ValidationContext
from clarion.model.documents import Problem, Ref, StoredDocument
from clarion.orchestrated.canvas import Channel, Split
from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.documents import SCHEMA_NAME, parse_canvas, parse_schema
from clarion.orchestrated.planner import build_plan
from clarion.orchestrated.saving import list_audience_problem, save_activities
from clarion.orchestrated.template_columns import missing_columns, row_paths
from clarion.storage.base import Tx


class SchemaKind(DocumentKind):
    """The workspace's relational schema (one per workspace, named `default`)."""

    kind = "schema"
    default_name = SCHEMA_NAME

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        _parsed, problems = parse_schema(spec)
        if spec.get("name", SCHEMA_NAME) != SCHEMA_NAME:
            problems.append(Problem("name", f"a workspace has one schema, named {SCHEMA_NAME!r}"))
        return problems

    def apply(
        self, tx: Tx, workspace_id: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        """Stored with YAML's `on: ...` (read as `true: ...`) under its own name."""
        return super().apply(tx, workspace_id, name, _yaml_keys(spec), now)


def _yaml_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {("on" if k is True else k): _yaml_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_keys(v) for v in value]
    return value


def _channel_problems(
    spec: Any, plan: Any, catalog: Catalog, ctx: ValidationContext
) -> list[Problem]:
    problems = []
    for activity in spec.activities:
        if not isinstance(activity, Channel):
            continue
        template = ctx.find(Ref("template", activity.template))
        if template is None:
            continue  # `references` reports it
        channel = template.get("channel")
        if channel is not None and channel != activity.type:
            problems.append(
                Problem(f"{activity.id}.template", f"{activity.template!r} is a {channel} template")
            )
        columns = plan.step(activity.id).columns
        for path in missing_columns(catalog, columns, row_paths(template)):
            problems.append(
                Problem(
                    f"{activity.id}.template",
                    f"{path} does not flow into {activity.id!r} ({columns.dimension} rows)",
                )
            )
    return problems


def _save_problems(spec: Any, ctx: ValidationContext) -> list[Problem]:
    """Saved audiences are list audiences (made on the first run), each saved once."""
    problems = []
    seen: set[str] = set()
    for activity in save_activities(spec):
        if activity.audience in seen:
            problems.append(
                Problem(f"{activity.id}.audience", f"{activity.audience!r} is saved twice")
            )
        seen.add(activity.audience)
        found = ctx.find(Ref("audience", activity.audience))
        problem = list_audience_problem(activity.id, activity.audience, found)
        if problem is not None:
            problems.append(problem)
    return problems


class CanvasKind(DocumentKind):
    """An orchestrated campaign's canvas."""

    kind = "canvas"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        parsed, problems = parse_canvas(spec)
        if parsed is None:
            return problems
        schema = ctx.find(Ref("schema", SCHEMA_NAME))
        if schema is None:
            return [Problem("", "apply a `kind: schema` document first (or in the same batch)")]
        schema_spec, _ = parse_schema(schema)
        if schema_spec is None:
            return [Problem("", "the schema document is invalid")]
        catalog = Catalog(schema_spec)
        plan, problems = build_plan(parsed, catalog)
        if plan is None:
            return problems
        return _channel_problems(parsed, plan, catalog, ctx) + _save_problems(parsed, ctx)

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        parsed, _problems = parse_canvas(spec)
        if parsed is None:
            return []
        refs = {Ref("schema", SCHEMA_NAME)}
        for activity in parsed.activities:
            if isinstance(activity, Channel):
                refs.add(Ref("template", activity.template))
            audience = getattr(activity, "audience", None)
            if isinstance(audience, str) and activity.type == "build_audience":
                refs.add(Ref("audience", audience))
            if isinstance(activity, Split):
                continue
        return sorted(refs)
