"""Checks a journey graph before it is saved or published.

Refused: duplicate node ids, edges to nodes that do not exist, nodes no path
reaches, loops without anything that waits (they would spin forever),
conditions that do not compile, reactions to messages not sent by a message
node, message templates of the wrong channel. Problems name the node id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from clarion.audiences.errors import AudienceCompileError
from clarion.audiences.memory import compile_definition
from clarion.audiences.resolver import Resolver
from clarion.model.documents import Problem
from clarion.model.journeys import JourneySpec, successors

WAITING_KINDS = frozenset({"wait", "reaction", "custom_action"})


def _node_path(spec: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "nodes" and isinstance(parts[1], int):
        nodes = spec.get("nodes") or []
        if parts[1] < len(nodes) and isinstance(nodes[parts[1]], dict):
            node_id = nodes[parts[1]].get("id", parts[1])
            parts = ["nodes", str(node_id), *parts[3:]]
    return ".".join(str(p) for p in parts)


def parse(spec: Mapping[str, Any]) -> tuple[JourneySpec | None, list[Problem]]:
    """The parsed journey, or the shape problems (paths name node ids)."""
    try:
        return JourneySpec.model_validate(dict(spec)), []
    except ValidationError as exc:
        return None, [Problem(_node_path(spec, tuple(e["loc"])), e["msg"]) for e in exc.errors()]


def _loops_without_wait(journey: JourneySpec) -> list[str]:
    edges = {n.id: [s for s in successors(n)] for n in journey.nodes if n.type not in WAITING_KINDS}
    state: dict[str, int] = {}
    looping: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        for target in edges.get(node, []):
            if target not in edges:
                continue
            if state.get(target) == 1:
                looping.append(target)
            elif not state.get(target):
                visit(target)
        state[node] = 2

    for node in edges:
        if not state.get(node):
            visit(node)
    return looping


def check_graph(journey: JourneySpec) -> list[Problem]:
    """Structural problems of a well-formed journey."""
    problems: list[Problem] = []
    ids = [n.id for n in journey.nodes]
    for node_id in {i for i in ids if ids.count(i) > 1}:
        problems.append(Problem(f"nodes.{node_id}", "two nodes have this id"))
    known = set(ids)
    if journey.first not in known:
        problems.append(Problem("start", f"no node {journey.first!r}"))
    for node in journey.nodes:
        for target in successors(node):
            if target not in known:
                problems.append(
                    Problem(f"nodes.{node.id}", f"leads to {target!r}, which does not exist")
                )
        if node.type == "reaction":
            for awaited in node.events:
                if awaited.message_node is not None and (
                    awaited.message_node not in known
                    or journey.node(awaited.message_node).type != "message"
                ):
                    problems.append(
                        Problem(
                            f"nodes.{node.id}", f"{awaited.message_node!r} is not a message node"
                        )
                    )
    reached, stack = set(), [journey.first]
    while stack:
        current = stack.pop()
        if current in reached or current not in known:
            continue
        reached.add(current)
        stack.extend(successors(journey.node(current)))
    for node_id in ids:
        if node_id not in reached and journey.first in known:
            problems.append(Problem(f"nodes.{node_id}", "no path reaches this node"))
    for node_id in sorted(set(_loops_without_wait(journey))):
        problems.append(
            Problem(
                f"nodes.{node_id}", "a loop through this node never waits; it would run forever"
            )
        )
    return problems


def check_conditions(journey: JourneySpec, resolver: Resolver) -> list[Problem]:
    """Branch conditions and entry filters that do not compile."""
    problems = []
    for node in journey.nodes:
        for index, branch in enumerate(getattr(node, "branches", []) or []):
            try:
                compile_definition(branch.when, resolver, path="when")
            except AudienceCompileError as exc:
                problems.append(Problem(f"nodes.{node.id}.branches[{index}].when", exc.message))
    return problems


def check_templates(
    journey: JourneySpec, template: Callable[[str], Mapping[str, Any] | None]
) -> list[Problem]:
    """Message nodes whose template is of another channel."""
    problems = []
    for node in journey.nodes:
        if node.type != "message":
            continue
        found = template(node.template)
        if found is not None and found.get("channel") != node.channel:
            problems.append(
                Problem(
                    f"nodes.{node.id}.template",
                    f"template {node.template!r} is for {found.get('channel')}, not {node.channel}",
                )
            )
    return problems
