"""Per-render state and the helpers that compiled templates call.

Compiled code mirrors python-liquid's ``RenderContext`` without building one: loop
variables become Python locals, and everything else a template can observe lives in a
``RenderState`` (assigned variables, counters, cycles, loop stack, depth carried into
``render``ed fragments). Each helper here repeats the corresponding python-liquid logic so
that limits and errors behave the same, message for message.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import reduce
from operator import mul
from typing import Any, Final

from liquid import Environment
from liquid.context import RenderContext, _segments_str, builtin
from liquid.exceptions import (
    ContextDepthError,
    LiquidInterrupt,
    LiquidSyntaxError,
    LiquidTypeError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
)
from liquid.token import Token
from liquid.utils import ReadOnlyChainMap

__all__ = [
    "MISSING",
    "OutputBuffer",
    "RenderState",
    "byte_length",
    "context_depth_error",
    "filter_type_error",
    "output_limit_error",
    "resolve_computed",
    "unexpected_interrupt",
    "walk_path",
]

MISSING: Final = object()
"""Marks a name absent from a namespace (``None`` is a value in Liquid)."""


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


def byte_length(text: str) -> int:
    """UTF-8 length of ``text``, as ``LimitedStringIO`` counts it."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def output_limit_error() -> OutputStreamLimitError:
    """The error python-liquid raises when a write passes the output limit."""
    return OutputStreamLimitError("output stream limit reached", token=None)


def context_depth_error(kind: str) -> ContextDepthError:
    """The error python-liquid raises when extending the scope past its depth limit."""
    return ContextDepthError(
        f"maximum context depth reached, possible recursive {kind}", token=None
    )


def unexpected_interrupt(interrupt: LiquidInterrupt, token: Token) -> LiquidSyntaxError:
    """The error for ``break`` or ``continue`` outside a loop."""
    return LiquidSyntaxError(f"unexpected '{interrupt}'", token=token)


def walk_path(
    context: RenderContext,
    obj: object,
    path: list[object],
    token: Token | None,
    start: int = 1,
) -> object:
    """Follow ``path[start:]`` from ``obj``, the value reached so far (``RenderContext.get``).

    ``path[0]`` is the root name; hints count segments from it.
    """
    root = path[0]
    for i in range(start - 1, len(path) - 1):
        try:
            obj = context.get_item(obj, path[i + 1])
        except (KeyError, TypeError):
            hint = f"{_segments_str(path[: i + 2])} is undefined"
            return context.env.undefined(str(root), hint=hint, token=token)
        except IndexError:
            return context.env.undefined(str(root), hint="index out of range", token=token)
    return obj


def resolve_computed(
    context: RenderContext, scope: Mapping[str, object], path: list[object], token: Token | None
) -> object:
    """``RenderContext.get`` for a path whose root name is itself computed."""
    root = path[0]
    if not isinstance(root, str):
        return context.env.undefined(str(root), hint=f"{root} is undefined", token=token)
    try:
        obj = scope[root]
    except (KeyError, TypeError, IndexError):
        return context.env.undefined(root, hint=f"{root!r} is undefined", token=token)
    return walk_path(context, obj, path, token)


def filter_type_error(name: str, error: TypeError, token: Token | None) -> LiquidTypeError:
    """The error python-liquid raises when calling a filter raises ``TypeError``."""
    return LiquidTypeError(f"{name}: {error}", token=token)
