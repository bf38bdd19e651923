"""The audience language: documents, definitions, validation and JSON Schema.

An audience document is either **dynamic** (a `definition`: a tree of nodes, see
`clarion.model.audience_nodes`) or a static **list** (`type: list`: members are
uploaded identities, see `clarion.model.audience_list`):

```yaml
kind: audience
name: frequent-buyers-se
definition:
  all:
    - trait: {path: country, op: eq, value: SE}
    - performed:
        event: Order Completed
        where: [{path: total, op: gte, value: 100}]
        count: {op: gte, value: 2}
        within: {last: 30, unit: days}
    - not:
        performed: {event: Account Closed}
```

Invalid documents are rejected with `Problem`s whose path points at the
offending node (`definition.all[1].performed.where[0].op`). `in_audience`
references are checked against the other audiences: unknown names and cycles
are problems too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

from clarion.model.audience_nodes import (
    NODE_KINDS,
    InAudienceNode,
    Name,
    Node,
    NodeBase,
    children,
)
from clarion.model.documents import Problem
from clarion.model.errors import InvalidInput

Definition = Node
"""A dynamic audience's tree (the root node)."""


class AudienceSpec(BaseModel):
    """An audience document: `{kind, name, description, type, definition}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["audience"] = "audience"
    name: Name | None = None
    description: str = ""
    type: Literal["dynamic", "list"] = "dynamic"
    definition: Node | None = None

    @model_validator(mode="after")
    def _shape(self) -> AudienceSpec:
        if self.type == "dynamic" and self.definition is None:
            raise ValueError("a dynamic audience needs a `definition`")
        if self.type == "list" and self.definition is not None:
            raise ValueError("a list audience has uploaded members, not a `definition`")
        return self


class InvalidAudience(InvalidInput):
    """An audience document or definition is invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        text = "; ".join(f"{p.path or '(document)'}: {p.message}" for p in problems)
        super().__init__(
            text,
            field=first.path,
            problems=[{"path": p.path, "message": p.message} for p in problems],
        )
        self.problems = problems


_DEFINITION: TypeAdapter[Node] = TypeAdapter(Node)


def _is_union_label(part: str) -> bool:
    """Tags of value and window unions (`value:list`, `window:last`) and pydantic's own
    labels (`function-after[...]`) are not keys of the document."""
    return ":" in part or "[" in part


def format_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a path: `definition.all[1].performed.where[0].op`.

    A tagged union repeats the node kind (`performed`, `performed`): it is written once.
    """
    out = ""
    i = 0
    while i < len(loc):
        part = loc[i]
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _is_union_label(part):
            out += f".{part}" if out else part
            if part in NODE_KINDS and i + 1 < len(loc) and loc[i + 1] == part:
                i += 1
        i += 1
    return out


def _message(error: Any) -> str:
    if error["type"] == "node_kind":
        given = error.get("input")
        if isinstance(given, dict) and len(given) == 1:
            return f"unknown node kind {next(iter(given))!r}; expected one of: " + ", ".join(
                NODE_KINDS
            )
        return "a node is an object with exactly one key naming its kind: " + ", ".join(NODE_KINDS)
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


def problems_of(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[Problem]:
    """A pydantic error as problems with node paths."""
    return [Problem(format_path(prefix + tuple(e["loc"])), _message(e)) for e in exc.errors()]


def parse_definition(data: Any) -> Definition:
    """A definition from its JSON/YAML form; raises `InvalidAudience` (paths from `definition`)."""
    try:
        return _DEFINITION.validate_python(data)
    except ValidationError as exc:
        raise InvalidAudience(problems_of(exc, ("definition",))) from None


def parse_audience(data: Mapping[str, Any]) -> AudienceSpec:
    """An audience document (or the API's `{name, definition}`); raises `InvalidAudience`."""
    try:
        return AudienceSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidAudience(problems_of(exc)) from None


def walk(node: NodeBase, path: str = "definition") -> Iterator[tuple[str, NodeBase]]:
    """Every node of a tree, depth first, with its path."""
    yield path, node
    for step, child in children(node):
        yield from walk(child, f"{path}.{step}")


def references(definition: NodeBase) -> list[tuple[str, str]]:
    """The audiences a definition refers to: `(path of the in_audience node, name)`."""
    return [
        (f"{path}.in_audience.name", node.in_audience.name)
        for path, node in walk(definition)
        if isinstance(node, InAudienceNode)
    ]


AudienceLookup = Callable[[str], AudienceSpec | None]
"""Finds another audience by name (None when there is none)."""


def reference_problems(
    name: str | None, spec: AudienceSpec, lookup: AudienceLookup
) -> list[Problem]:
    """Unknown audiences and `in_audience` cycles, with the path of the node at fault."""
    if spec.definition is None:
        return []
    problems = []
    for path, target in references(spec.definition):
        if target == name:
            problems.append(Problem(path, f"an audience cannot contain itself ({name!r})"))
            continue
        found = lookup(target)
        if found is None:
            problems.append(Problem(path, f"no audience named {target!r}"))
            continue
        cycle = _cycle_back(name, target, found, lookup, [target])
        if cycle:
            chain = " -> ".join([str(name), *cycle])
            problems.append(Problem(path, f"in_audience cycle: {chain}"))
    return problems


def _cycle_back(
    start: str | None, name: str, spec: AudienceSpec, lookup: AudienceLookup, trail: list[str]
) -> list[str] | None:
    if spec.definition is None:
        return None
    for _, target in references(spec.definition):
        if target == start:
            return [*trail, target]
        if target in trail:
            return [*trail, target]
        found = lookup(target)
        if found is not None:
            cycle = _cycle_back(start, target, found, lookup, [*trail, target])
            if cycle:
                return cycle
    return None


def validate_audience(data: Mapping[str, Any], lookup: AudienceLookup) -> list[Problem]:
    """Every problem of an audience document, references included; empty when valid."""
    try:
        spec = AudienceSpec.model_validate(dict(data))
    except ValidationError as exc:
        return problems_of(exc)
    return reference_problems(spec.name, spec, lookup)


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of a definition (for the UI and the docs)."""
    return _DEFINITION.json_schema()


def audience_json_schema() -> dict[str, Any]:
    """The JSON Schema of an audience document."""
    return AudienceSpec.model_json_schema()


__all__ = [
    "AudienceLookup",
    "AudienceSpec",
    "Definition",
    "InvalidAudience",
    "audience_json_schema",
    "definition_json_schema",
    "format_path",
    "parse_audience",
    "parse_definition",
    "reference_problems",
    "references",
    "validate_audience",
    "walk",
]
