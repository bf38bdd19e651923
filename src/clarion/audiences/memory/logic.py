"""Boolean composition and audience membership, in memory."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from clarion.audiences.memory.compiler import (
    MEMORY_COMPILERS,
    Compiled,
    MemoryContext,
    compile_node,
)
from clarion.audiences.memory.profile import ProfileView
from clarion.audiences.resolver import inline
from clarion.model.audience_nodes import AllNode, AnyNode, InAudienceNode, NotNode


def _union(parts: list[Compiled]) -> Compiled:
    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        return chain.from_iterable(part.changes(profile, now) for part in parts)

    return Compiled(lambda profile, now: True, changes)


@MEMORY_COMPILERS.register("all")
def compile_all(node: AllNode, path: str, ctx: MemoryContext) -> Compiled:
    """True when every child is."""
    parts = [compile_node(child, f"{path}.all[{i}]", ctx) for i, child in enumerate(node.all)]
    return Compiled(
        lambda profile, now: all(p.holds(profile, now) for p in parts), _union(parts).changes
    )


@MEMORY_COMPILERS.register("any")
def compile_any(node: AnyNode, path: str, ctx: MemoryContext) -> Compiled:
    """True when some child is."""
    parts = [compile_node(child, f"{path}.any[{i}]", ctx) for i, child in enumerate(node.any)]
    return Compiled(
        lambda profile, now: any(p.holds(profile, now) for p in parts), _union(parts).changes
    )


@MEMORY_COMPILERS.register("not")
def compile_not(node: NotNode, path: str, ctx: MemoryContext) -> Compiled:
    """True when the child is not."""
    part = compile_node(node.not_, f"{path}.not", ctx)
    return Compiled(lambda profile, now: not part.holds(profile, now), part.changes)


@MEMORY_COMPILERS.register("in_audience")
def compile_in_audience(node: InAudienceNode, path: str, ctx: MemoryContext) -> Compiled:
    """Membership of another audience: its definition, inlined."""
    name = node.in_audience.name
    here = f"{path}.in_audience"
    definition = inline(ctx.resolver, name, here, ctx.stack)
    inner = MemoryContext(ctx.resolver, (*ctx.stack, name))
    return compile_node(definition, f"{here}->{name}.definition", inner)
