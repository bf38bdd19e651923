"""Turn a parsed template into a Python function.

The generated function has the signature ``render(st, dyn, depth, buf)``: the render
state, the names an ``include`` passes down (``None`` otherwise), python-liquid's scope
size before the template's own namespace is pushed, and the output buffer. Its body
mirrors ``BoundTemplate.render_with_context``: errors without a token get the token of
the top-level node being rendered, and ``break``/``continue`` outside a loop become
syntax errors except in an ``include``d fragment, where they reach the caller's loop.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from liquid import BoundTemplate

from clarion.delivery.liquid.codegen import (  # noqa: F401  (each registers its handlers)
    expressions,
    paths,
    tags_control,
    tags_loops,
    tags_output,
    tags_partials,
    tags_state,
)
from clarion.delivery.liquid.codegen.analysis import analyze
from clarion.delivery.liquid.codegen.function import (
    BASE_SCOPE_SIZE,
    FunctionCompiler,
    Variant,
)
from clarion.delivery.liquid.codegen.writer import CodeWriter
from clarion.delivery.liquid.errors import UnsupportedConstruct

__all__ = ["RenderFunction", "compile_template"]

RenderFunction = Callable[[Any, Any, int, list[str]], None]


def compile_template(
    template: BoundTemplate, variant: Variant, namespace: Mapping[str, object]
) -> RenderFunction:
    """Compile ``template`` for ``variant``; ``namespace`` holds the runtime helpers.

    Raises ``UnsupportedConstruct`` when some node, expression or filter has no
    translation, or when Python cannot compile the result (very deep nesting).
    """
    source, constants = generate(template, variant)
    try:
        with warnings.catch_warnings():
            # Literal operands (``{% for x in 4 %}``) make valid but odd-looking code.
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, f"<liquid template {template.name!r}>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise UnsupportedConstruct(f"generated code does not compile: {exc}") from exc
    scope: dict[str, Any] = {**namespace, **constants}
    # Our generated code: template text appears in it only as reprs of strings.
    exec(code, scope)
    function: RenderFunction = scope["render"]
    return function


def generate(template: BoundTemplate, variant: Variant) -> tuple[str, dict[str, object]]:
    """The source of the render function and the constants it refers to."""
    env = template.env
    writer = CodeWriter()
    fc = FunctionCompiler(
        env,
        writer,
        variant=variant,
        template_name=template.full_name(),
        analysis=analyze(template.nodes),
    )
    with writer.block("def render(st, dyn, depth, buf):"):
        # python-liquid pushes the template's ``partial`` namespace first.
        size = "depth" if variant is Variant.INCLUDE else str(BASE_SCOPE_SIZE)
        fc.check_scope_depth(size, "include")
        writer.line("_L = st.locals")
        writer.line("_G = st.globals")
        writer.line("_C = st.counters")
        fc.out.start("buf")
        tokens = writer.const(tuple(node.token for node in template.nodes), "tops")
        writer.line("_n = 0")
        try:
            with writer.block("try:"):
                for index, node in enumerate(template.nodes):
                    writer.line(f"_n = {index}")
                    fc.node(node)
        except RecursionError as exc:
            raise UnsupportedConstruct("template nested too deeply") from exc
        if variant is not Variant.INCLUDE:
            with writer.block("except _LiquidInterrupt as _e:"):
                writer.line(f"raise _unexpected_interrupt(_e, {tokens}[_n])")
        with writer.block("except _LiquidError as _e:"):
            with writer.block("if not _e.token:"):
                writer.line(f"_e.token = {tokens}[_n]")
            writer.line("raise")
        fc.out.finish()
    return writer.source(), writer.constants
