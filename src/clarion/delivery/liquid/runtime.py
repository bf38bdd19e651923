"""Helpers that compiled templates call, each repeating a piece of python-liquid's logic.

They build the errors python-liquid raises (same class, same message) and walk variable
paths the way ``RenderContext.get`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from liquid.context import RenderContext, _segments_str
from liquid.exceptions import (
    ContextDepthError,
    LiquidInterrupt,
    LiquidSyntaxError,
    LiquidTypeError,
    LoopIterationLimitError,
    OutputStreamLimitError,
)
from liquid.token import Token

__all__ = [
    "MISSING",
    "byte_length",
    "context_depth_error",
    "filter_type_error",
    "loop_limit_error",
    "output_limit_error",
    "resolve_computed",
    "unexpected_interrupt",
    "walk_path",
]

MISSING: Final = object()
"""Marks a name absent from a namespace (``None`` is a value in Liquid)."""


def byte_length(text: str) -> int:
    """UTF-8 length of ``text``, as ``LimitedStringIO`` counts it."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def output_limit_error() -> OutputStreamLimitError:
    """The error python-liquid raises when a write passes the output limit."""
    return OutputStreamLimitError("output stream limit reached", token=None)


def loop_limit_error() -> LoopIterationLimitError:
    """The error python-liquid raises when nested loops pass the iteration limit."""
    return LoopIterationLimitError("loop iteration limit reached", token=None)


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
