"""Boolean composition and audience membership, in memory."""

from __future__ import annotations

from collections.abc import Iterable

from clarion.audiences.memory.compiler import (
    MEMORY_COMPILERS,
    ChangeInstants,
    Compiled,
    MemoryContext,
    compile_node,
    never,
    remembered,
)
from clarion.audiences.memory.profile import ProfileView
from clarion.audiences.resolver import inline
from clarion.model.audience_nodes import AllNode, AnyNode, InAudienceNode, NotNode


def _union(parts: list[Compiled]) -> ChangeInstants:
    timed = [part.changes for part in parts if part.changes is not never]
    if not timed:
        return never  # lets the evaluator skip `next_change` for audiences time cannot change
    if len(timed) == 1:
        return timed[0]

    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        found: list[int] = []
        for part in timed:
            found.extend(part(profile, now))
        return found

    return changes


@MEMORY_COMPILERS.register("all")
def compile_all(node: AllNode, path: str, ctx: MemoryContext) -> Compiled:
    """True when every child is."""
    parts = [compile_node(child, f"{path}.all[{i}]", ctx) for i, child in enumerate(node.all)]
    tests = [part.holds for part in parts]
    if len(tests) == 2:  # the common shape, without a generator per call
        first, second = tests
        return Compiled(lambda p, now: first(p, now) and second(p, now), _union(parts))

    def holds(profile: ProfileView, now: int) -> bool:
        return all(test(profile, now) for test in tests)

    return Compiled(holds, _union(parts))


@MEMORY_COMPILERS.register("any")
def compile_any(node: AnyNode, path: str, ctx: MemoryContext) -> Compiled:
    """True when some child is."""
    parts = [compile_node(child, f"{path}.any[{i}]", ctx) for i, child in enumerate(node.any)]
    tests = [part.holds for part in parts]
    if len(tests) == 2:  # the common shape, without a generator per call
        first, second = tests
        return Compiled(lambda p, now: first(p, now) or second(p, now), _union(parts))

    def holds(profile: ProfileView, now: int) -> bool:
        return any(test(profile, now) for test in tests)

    return Compiled(holds, _union(parts))


@MEMORY_COMPILERS.register("not")
def compile_not(node: NotNode, path: str, ctx: MemoryContext) -> Compiled:
    """True when the child is not."""
    part = compile_node(node.not_, f"{path}.not", ctx)
    test = part.holds
    return Compiled(lambda profile, now: not test(profile, now), part.changes)


@MEMORY_COMPILERS.register("in_audience")
def compile_in_audience(node: InAudienceNode, path: str, ctx: MemoryContext) -> Compiled:
    """Membership of another audience: its definition, inlined."""
    name = node.in_audience.name
    here = f"{path}.in_audience"
    shared = ctx.shared
    if shared is not None and name in shared and name not in ctx.stack:
        return shared[name]  # compiled without error before: the same in any context
    definition = inline(ctx.resolver, name, here, ctx.stack)
    inner = MemoryContext(ctx.resolver, (*ctx.stack, name), shared)
    compiled = compile_node(definition, f"{here}->{name}.definition", inner)
    if shared is None:
        return compiled
    shared[name] = compiled = remembered(compiled)
    return compiled
