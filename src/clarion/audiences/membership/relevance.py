"""Which `track` events can change an audience: the event's name, and its properties.

An audience reads a named event only through event nodes (`performed`,
`not_performed`, `last_performed`, `message_outcome`), and each of them skips
events whose properties fail its `where`. An event failing every `where` on
its name therefore changes neither the audience's membership nor the instants
time can change it: re-evaluating for it would be wasted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clarion.audiences.memory.values import condition_test
from clarion.audiences.resolver import Resolver
from clarion.audiences.semantics import outcome_as_performed
from clarion.model.audience import Definition
from clarion.model.audience_conditions import DATE_OPERATORS, Condition
from clarion.model.audience_nodes import NodeBase, children

PropertyTest = Callable[[Mapping[str, Any]], bool]


def event_filters(definition: Definition, resolver: Resolver) -> dict[str, PropertyTest | None]:
    """Event name -> the test an event's properties must pass to matter (None: any event of
    the name matters, e.g. a node without `where` or one whose `where` depends on time)."""
    found: dict[str, list[list[Condition]] | None] = {}
    _visit(definition, resolver, found, ())
    return {name: None if wheres is None else _any_of(wheres) for name, wheres in found.items()}


def _any_of(wheres: list[list[Condition]]) -> PropertyTest:
    tests = [[condition_test(condition) for condition in where] for where in wheres]
    if len(tests) == 1 and len(tests[0]) == 1:  # the common shape, without generators
        (only,) = tests[0]
        return lambda properties: only(properties, 0)
    return lambda properties: any(all(test(properties, 0) for test in t) for t in tests)


def _event_uses(node: NodeBase) -> tuple[str, list[Condition]] | None:
    kind = node.KIND
    spec: Any = getattr(node, kind, None)
    if kind in ("performed", "not_performed", "last_performed"):
        return spec.event, list(spec.where)
    if kind == "message_outcome":
        performed = outcome_as_performed(spec)
        return performed.event, list(performed.where)
    return None


def _visit(
    node: NodeBase,
    resolver: Resolver,
    found: dict[str, list[list[Condition]] | None],
    stack: tuple[str, ...],
) -> None:
    use = _event_uses(node)
    if use is not None:
        name, where = use
        timed = any(condition.op in DATE_OPERATORS for condition in where)
        wheres = found.get(name, [])
        if not where or timed or wheres is None:
            found[name] = None
        else:
            found[name] = [*wheres, where]
    if node.KIND == "in_audience":
        name = node.in_audience.name  # type: ignore[attr-defined]
        spec = resolver.audience(name)
        if name not in stack and spec is not None and spec.definition is not None:
            _visit(spec.definition, resolver, found, (*stack, name))
    for _, child in children(node):
        _visit(child, resolver, found, stack)
