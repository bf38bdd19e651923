"""Node kinds register their compilers here: later issues add compilation, not grammar.

Each engine (`sql`, `memory`) has one `CompilerRegistry`; a node kind without a
registered compiler raises `NotCompilable` naming the node's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from clarion.audiences.errors import NotCompilable
from clarion.model.audience_nodes import NODE_KINDS, NodeBase

F = TypeVar("F", bound=Callable[..., object])


class CompilerRegistry(Generic[F]):
    """The compilers of one engine, by node kind."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self._compilers: dict[str, F] = {}

    def register(self, kind: str) -> Callable[[F], F]:
        """Decorator: `fn` compiles nodes of `kind` on this engine."""
        if kind not in NODE_KINDS:
            raise ValueError(f"unknown node kind {kind!r}")

        def add(fn: F) -> F:
            if kind in self._compilers:
                raise ValueError(f"{self.engine}: a compiler for {kind!r} is already registered")
            self._compilers[kind] = fn
            return fn

        return add

    def compiler(self, node: NodeBase, path: str) -> F:
        """The compiler for `node`; `NotCompilable` (naming `path`) when there is none."""
        found = self._compilers.get(node.KIND)
        if found is None:
            raise NotCompilable(
                f"{path}: the {self.engine} compiler does not compile `{node.KIND}` nodes"
                " (declared for a later issue)",
                field=path,
            )
        return found

    def kinds(self) -> frozenset[str]:
        """The node kinds this engine compiles."""
        return frozenset(self._compilers)
