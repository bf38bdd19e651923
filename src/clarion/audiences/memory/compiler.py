"""The in-memory compiler's core: a definition becomes a tree of closures.

Each node kind registers a function turning a node into a `Compiled` pair:
`holds(profile, now)` and `changes(profile, now)`, the instants at which
`holds` may flip through time alone (windows expiring, dates coming closer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from clarion.audiences.memory.profile import ProfileView
from clarion.audiences.registry import CompilerRegistry
from clarion.audiences.resolver import Resolver
from clarion.model.audience_nodes import NodeBase

Holds = Callable[[ProfileView, int], bool]
ChangeInstants = Callable[[ProfileView, int], Iterable[int]]


def never(profile: ProfileView, now: int) -> Iterable[int]:
    """The `changes` of a node that time alone never flips."""
    return ()


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled node: its test and its change instants."""

    holds: Holds
    changes: ChangeInstants = never


@dataclass(frozen=True, slots=True)
class MemoryContext:
    """What node compilers may use: the resolver, the audiences being inlined and, when
    several audiences are compiled together, their compiled forms by name (`shared`)."""

    resolver: Resolver
    stack: tuple[str, ...] = ()
    shared: dict[str, Compiled] | None = None


def remembered(part: Compiled) -> Compiled:
    """`part`, answering again without work when asked about the same profile view at the
    same instant as last time (audiences referring to one audience share it this way).

    The last answer is one tuple replaced whole (concurrent callers only miss), and it
    holds the view itself, so a later view cannot take its identity.
    """
    test, timed = part.holds, part.changes
    last: list[tuple[ProfileView | None, int, bool]] = [(None, 0, False)]

    def holds(profile: ProfileView, now: int) -> bool:
        seen, at, answer = last[0]
        if seen is profile and at == now:
            return answer
        answer = test(profile, now)
        last[0] = (profile, now, answer)
        return answer

    if timed is never:
        return Compiled(holds)
    instants: list[tuple[ProfileView | None, int, list[int]]] = [(None, 0, [])]

    def changes(profile: ProfileView, now: int) -> Iterable[int]:
        seen, at, found = instants[0]
        if seen is profile and at == now:
            return found
        found = list(timed(profile, now))
        instants[0] = (profile, now, found)
        return found

    return Compiled(holds, changes)


MemoryCompiler = Callable[[Any, str, MemoryContext], Compiled]
MEMORY_COMPILERS: CompilerRegistry[MemoryCompiler] = CompilerRegistry("in-memory")
"""Node kind -> its in-memory compiler."""


def compile_node(node: NodeBase, path: str, ctx: MemoryContext) -> Compiled:
    """Compile one node (and its subtree)."""
    return MEMORY_COMPILERS.compiler(node, path)(node, path, ctx)
