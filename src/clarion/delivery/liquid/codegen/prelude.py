"""The names generated code uses: python-liquid's own helpers and this package's runtime."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import markupsafe
from liquid import BoundTemplate, Environment, Markup
from liquid.builtin.drops import IterableDrop
from liquid.builtin.expressions.logical import _contains, _eq, _le, _lt, is_truthy
from liquid.builtin.tags.for_tag import ForLoop
from liquid.builtin.tags.tablerow_tag import TableRow
from liquid.context import RenderContext, builtin
from liquid.exceptions import (
    BreakLoop,
    ContinueLoop,
    DisabledTagError,
    FilterArgumentError,
    LiquidError,
    LiquidInterrupt,
    LiquidTypeError,
    TemplateNotFoundError,
    UnknownFilterError,
)
from liquid.stringify import to_liquid_string
from liquid.undefined import is_undefined
from liquid.utils import ReadOnlyChainMap

from clarion.delivery.liquid.errors import RuntimeFallback
from clarion.delivery.liquid.runtime import (
    MISSING,
    byte_length,
    context_depth_error,
    filter_type_error,
    loop_limit_error,
    output_limit_error,
    resolve_computed,
    unexpected_interrupt,
    walk_path,
)
from clarion.delivery.liquid.state import OutputBuffer

__all__ = ["runtime_namespace"]

_NONE = type(None)

# Escaping a `str` output only needs the escaped text: `markupsafe.escape` also builds
# a `Markup` per value (10x the cost), and joining `Markup` parts is slower than `str`.
_escape_text: Callable[[str], str] = getattr(markupsafe, "_escape_inner", None) or (
    lambda text: str(markupsafe.escape(text))
)

_SHARED: dict[str, object] = {
    "_MISSING": MISSING,
    "_OutputBuffer": OutputBuffer,
    "_blen": byte_length,
    "_output_limit_error": output_limit_error,
    "_loop_limit_error": loop_limit_error,
    "_context_depth_error": context_depth_error,
    "_unexpected_interrupt": unexpected_interrupt,
    "_filter_type_error": filter_type_error,
    "_walk": walk_path,
    "_resolve_computed": resolve_computed,
    "_to_liquid_string": to_liquid_string,
    "_escape": _escape_text,
    "_Markup": Markup,
    "_eq": _eq,
    "_lt": _lt,
    "_le": _le,
    "_contains": _contains,
    "_is_truthy": is_truthy,
    "_is_undefined": is_undefined,
    # Types whose Liquid semantics equal Python's for the fast paths.
    "_PLAIN": frozenset((str, int, float, _NONE)),
    "_PLAIN_TRUTHY": frozenset((str, int, float, bool, _NONE, list, dict)),
    "_NUMBER": frozenset((int, float)),
    "_INDEXABLE": frozenset((list, dict)),
    "_SIZED": frozenset((list, str)),
    "_ForLoop": ForLoop,
    "_TableRow": TableRow,
    "_IterableDrop": IterableDrop,
    "_BoundTemplate": BoundTemplate,
    "_ReadOnlyChainMap": ReadOnlyChainMap,
    "_builtin": builtin,
    "_LiquidError": LiquidError,
    "_LiquidInterrupt": LiquidInterrupt,
    "_BreakLoop": BreakLoop,
    "_ContinueLoop": ContinueLoop,
    "_LiquidTypeError": LiquidTypeError,
    "_FilterArgumentError": FilterArgumentError,
    "_UnknownFilterError": UnknownFilterError,
    "_DisabledTagError": DisabledTagError,
    "_TemplateNotFoundError": TemplateNotFoundError,
    "_RuntimeFallback": RuntimeFallback,
    # Generated code needs only these built-ins; it gets no others.
    "__builtins__": {
        name: getattr(builtins, name)
        for name in (
            "any",
            "enumerate",
            "isinstance",
            "iter",
            "len",
            "list",
            "range",
            "str",
            "tuple",
            "type",
            "KeyError",
            "TypeError",
            "IndexError",
        )
    },
}


def runtime_namespace(env: Environment, fragments: Any) -> dict[str, object]:
    """The globals of generated functions for templates of ``env``."""
    context = RenderContext(env.from_string(""))
    return {
        **_SHARED,
        "_ctx": context,
        "_get_item": context.get_item,
        "_undefined": env.undefined,
        "_fragments": fragments,
    }
