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
    """What node compilers may use: the resolver and the audiences being inlined."""

    resolver: Resolver
    stack: tuple[str, ...] = ()


MemoryCompiler = Callable[[Any, str, MemoryContext], Compiled]
MEMORY_COMPILERS: CompilerRegistry[MemoryCompiler] = CompilerRegistry("in-memory")
"""Node kind -> its in-memory compiler."""


def compile_node(node: NodeBase, path: str, ctx: MemoryContext) -> Compiled:
    """Compile one node (and its subtree)."""
    return MEMORY_COMPILERS.compiler(node, path)(node, path, ctx)
