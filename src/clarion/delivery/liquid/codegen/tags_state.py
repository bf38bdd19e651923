"""Tags that set variables or wrap a block: ``assign``, ``capture``, ``ifchanged``, ``liquid``."""

from __future__ import annotations

from liquid.ast import Node
from liquid.builtin.tags.assign_tag import AssignNode
from liquid.builtin.tags.capture_tag import CaptureNode
from liquid.builtin.tags.ifchanged_tag import IfChangedNode
from liquid.builtin.tags.liquid_tag import LiquidNode

from clarion.delivery.liquid.codegen.function import NODE_HANDLERS, FunctionCompiler

__all__ = ["assign_local"]


def assign_local(fc: FunctionCompiler, name: str, value: str) -> None:
    """``RenderContext.assign``: set a local, then enforce the local namespace limit."""
    fc.w.line(f"_L[{name!r}] = {value}")
    if fc.env.local_namespace_limit:
        fc.w.line("st.check_locals_size()")


def _assign(fc: FunctionCompiler, node: Node) -> None:
    assign_local(fc, str(node.name), fc.value(node.expression))  # type: ignore[attr-defined]


def _capture(fc: FunctionCompiler, node: Node) -> None:
    with fc.out.fresh() as buf:
        fc.block(node.block)  # type: ignore[attr-defined]
    text = f"''.join({buf.parts})"
    if fc.env.autoescape:
        text = f"_Markup({text})"
    assign_local(fc, str(node.name), text)  # type: ignore[attr-defined]


def _ifchanged(fc: FunctionCompiler, node: Node) -> None:
    with fc.out.fresh() as buf:
        fc.block(node.block)  # type: ignore[attr-defined]
    text = fc.w.temp("changed")
    fc.w.line(f"{text} = ''.join({buf.parts})")
    with fc.w.block(f"if st.ifchanged({text}):"):
        fc.out.write_str(text)


def _liquid(fc: FunctionCompiler, node: Node) -> None:
    fc.block(node.block)  # type: ignore[attr-defined]


NODE_HANDLERS.update(
    {AssignNode: _assign, CaptureNode: _capture, IfChangedNode: _ifchanged, LiquidNode: _liquid}
)
