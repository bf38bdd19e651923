"""The canvas as a graph: known targets, no cycles, entries, inbound transitions."""

from __future__ import annotations

from dataclasses import dataclass

from clarion.model.documents import Problem
from clarion.orchestrated.canvas import BuildAudience, CanvasSpec, Scheduler, Split


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge: the working set `key` (an activity id or `split.segment`) into `target`."""

    key: str
    source: str
    target: str


def transitions(spec: CanvasSpec) -> list[Transition]:
    """Every transition of the canvas, in document order."""
    found: list[Transition] = []
    for activity in spec.activities:
        if isinstance(activity, Split):
            for segment in activity.segments:
                targets = [segment.next] if isinstance(segment.next, str) else segment.next or []
                key = f"{activity.id}.{segment.id}"
                found.extend(Transition(key, activity.id, t) for t in targets)
            if activity.complement:
                found.append(
                    Transition(f"{activity.id}.complement", activity.id, activity.complement)
                )
        found.extend(Transition(activity.id, activity.id, t) for t in activity.targets())
    return found


def graph_problems(spec: CanvasSpec) -> list[Problem]:
    """Duplicate ids, unknown targets, cycles, activities that nothing feeds."""
    problems: list[Problem] = []
    ids = [a.id for a in spec.activities]
    seen: set[str] = set()
    for activity_id in ids:
        if activity_id in seen:
            problems.append(Problem(activity_id, f"activity id {activity_id!r} appears twice"))
        seen.add(activity_id)
    for activity in spec.activities:
        if isinstance(activity, Split):
            names = [s.id for s in activity.segments]
            if len(set(names)) != len(names) or "complement" in names:
                problems.append(
                    Problem(f"{activity.id}.segments", "segment ids are unique, not `complement`")
                )
    edges = transitions(spec)
    for edge in edges:
        if edge.target not in seen:
            problems.append(Problem(edge.source, f"leads to {edge.target!r}, which is no activity"))
    inbound = {t.target for t in edges}
    for activity in spec.activities:
        if activity.id not in inbound and not isinstance(activity, BuildAudience | Scheduler):
            problems.append(Problem(activity.id, "no transition leads here"))
    cycle = find_cycle(ids, edges)
    if cycle:
        problems.append(Problem(cycle[0], "the canvas has a cycle: " + " -> ".join(cycle)))
    return problems


def find_cycle(ids: list[str], edges: list[Transition]) -> list[str] | None:
    """A cycle of activity ids (first id repeated at the end), or None."""
    out: dict[str, list[str]] = {i: [] for i in ids}
    for edge in edges:
        if edge.target in out:
            out[edge.source].append(edge.target)
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for nxt in out[node]:
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt]
            if not state.get(nxt):
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        trail.pop()
        return None

    for node in ids:
        if not state.get(node):
            found = visit(node)
            if found:
                return found
    return None


def topological(ids: list[str], edges: list[Transition]) -> list[str]:
    """Activity ids, every one after those leading to it (document order otherwise)."""
    remaining = {i: {e.source for e in edges if e.target == i} for i in ids}
    ordered: list[str] = []
    while remaining:
        ready = [i for i in ids if i in remaining and not remaining[i] - set(ordered)]
        if not ready:
            break
        ordered.append(ready[0])
        del remaining[ready[0]]
    return ordered
