"""What one render keeps besides its output: python-liquid's ``RenderContext``, slimmed.

Compiled code mirrors ``RenderContext`` without building one: loop variables become
Python locals, and everything else a template can observe lives in a ``RenderState``
(assigned variables, counters, cycles, the loop stack, and the depth and loop counts
carried into ``render``ed fragments). Each method repeats the corresponding
python-liquid logic so that limits and errors behave the same, message for message.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import reduce
from operator import mul
from typing import Any

from liquid import Environment
from liquid.context import builtin
from liquid.exceptions import (
    ContextDepthError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
)
from liquid.utils import ReadOnlyChainMap

__all__ = ["OutputBuffer", "RenderState"]


class OutputBuffer(list[str]):
    """Output parts plus the byte count and limit of python-liquid's ``LimitedStringIO``.

    Compiled code keeps the running size in a local variable and stores it here only
    when another function (an ``include``d or ``render``ed fragment) writes to the
    same buffer.
    """

    __slots__ = ("limit", "size")

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.size = 0


class RenderState:
    """What one python-liquid ``RenderContext`` holds that compiled code needs at run time."""

    __slots__ = (
        "copy_depth",
        "counters",
        "cycles",
        "env",
        "globals",
        "ifchanged_value",
        "locals",
        "locals_size_carry",
        "loop_iteration_carry",
        "loops",
        "stopindexes",
    )

    def __init__(
        self,
        env: Environment,
        globals_: Mapping[str, object],
        *,
        copy_depth: int = 0,
        loop_iteration_carry: int = 1,
        locals_size_carry: int = 0,
    ) -> None:
        self.env = env
        self.globals = globals_
        self.locals: dict[str, object] = {}
        self.counters: dict[str, int] = {}
        self.cycles: dict[object, int] = {}
        self.ifchanged_value = ""
        self.stopindexes: dict[str, int] = {}
        self.loops: list[Any] = []
        self.copy_depth = copy_depth
        self.loop_iteration_carry = loop_iteration_carry
        self.locals_size_carry = locals_size_carry

    def stopindex(self, key: str, index: int | None = None) -> int:
        """Set or return the stop index of a loop (``offset: continue``)."""
        if index is not None:
            self.stopindexes[key] = index
            return index
        return self.stopindexes.get(key, 0)

    def cycle(self, key: object, length: int) -> int:
        """Return the index of the next item of the named cycle."""
        idx = self.cycles.setdefault(key, 0)
        self.cycles[key] = (idx + 1) % (length or 1)
        return idx

    def ifchanged(self, value: str) -> bool:
        """True if ``value`` differs from the last ``ifchanged`` output."""
        if value != self.ifchanged_value:
            self.ifchanged_value = value
            return True
        return False

    def parentloop(self) -> object:
        """The innermost enclosing ``for`` loop object, or undefined."""
        for loop in reversed(self.loops):
            if hasattr(loop, "parentloop"):
                return loop
        return self.env.undefined("parentloop", token=None)

    def raise_for_loop_limit(self, length: int = 1) -> None:
        """Raise when entering a loop of ``length`` would pass the iteration limit."""
        limit = self.env.loop_iteration_limit
        if (
            limit
            and reduce(
                mul, (loop.length for loop in self.loops), length * self.loop_iteration_carry
            )
            > limit
        ):
            raise LoopIterationLimitError("loop iteration limit reached", token=None)

    def size_of_locals(self) -> int:
        """The ``sys.getsizeof`` score python-liquid gives to the local namespace."""
        if not self.env.local_namespace_limit:
            return 0
        return (
            sum(sys.getsizeof(obj, default=1) for obj in self.locals.values())
            + self.locals_size_carry
        )

    def check_locals_size(self) -> None:
        """Raise if assigned variables pass the local namespace limit."""
        limit = self.env.local_namespace_limit
        if limit and self.size_of_locals() > limit:
            raise LocalNamespaceLimitError("local namespace limit reached", token=None)

    def for_render(self, namespace: Mapping[str, object]) -> RenderState:
        """The isolated state of a ``render``ed fragment (python-liquid's ``copy``)."""
        if self.copy_depth > self.env.context_depth_limit:
            raise ContextDepthError(
                "maximum context depth reached, possible recursive render", token=None
            )
        carry = reduce(mul, (loop.length for loop in self.loops), self.loop_iteration_carry)
        globals_ = ReadOnlyChainMap(namespace, self.globals)
        return RenderState(
            self.env,
            # As RenderContext does: when both are empty now, names bound after the
            # copy (``with``/``for`` variables) are never seen by the fragment.
            globals_ or {},
            copy_depth=self.copy_depth + 1,
            loop_iteration_carry=carry,
            locals_size_carry=self.size_of_locals(),
        )

    def scope_view(
        self, lexical: Mapping[str, object], dynamic: Mapping[str, object] | None
    ) -> ReadOnlyChainMap:
        """The whole scope chain as python-liquid searches it, for computed root names."""
        return ReadOnlyChainMap(
            lexical, dynamic or {}, self.locals, self.globals, builtin, self.counters
        )
