"""Tags that set variables or wrap a block: ``assign``, ``capture``, ``ifchanged``, ``liquid``."""

from __future__ import annotations

from liquid.builtin.tags.assign_tag import AssignNode
from liquid.builtin.tags.capture_tag import CaptureNode
from liquid.builtin.tags.ifchanged_tag import IfChangedNode
from liquid.builtin.tags.liquid_tag import LiquidNode

from clarion.delivery.liquid.codegen.function import FunctionCompiler, compiles

__all__ = ["assign_local"]


def assign_local(fc: FunctionCompiler, name: str, value: str) -> None:
    """``RenderContext.assign``: set a local, then enforce the local namespace limit."""
    fc.w.line(f"_L[{name!r}] = {value}")
    if fc.env.local_namespace_limit:
        fc.w.line("st.check_locals_size()")


@compiles(AssignNode)
def _assign(fc: FunctionCompiler, node: AssignNode) -> None:
    assign_local(fc, str(node.name), fc.value(node.expression))


@compiles(CaptureNode)
def _capture(fc: FunctionCompiler, node: CaptureNode) -> None:
    with fc.out.fresh() as buf:
        fc.block(node.block)
    text = f"''.join({buf.parts})"
    if fc.env.autoescape:
        text = f"_Markup({text})"
    assign_local(fc, str(node.name), text)


@compiles(IfChangedNode)
def _ifchanged(fc: FunctionCompiler, node: IfChangedNode) -> None:
    with fc.out.fresh() as buf:
        fc.block(node.block)
    text = fc.w.temp("changed")
    fc.w.line(f"{text} = ''.join({buf.parts})")
    with fc.w.block(f"if st.ifchanged({text}):"):
        fc.out.write_str(text)


@compiles(LiquidNode)
def _liquid(fc: FunctionCompiler, node: LiquidNode) -> None:
    fc.block(node.block)
