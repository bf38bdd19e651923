"""``if``, ``unless`` and ``case``, with python-liquid's evaluation order."""

from __future__ import annotations

from liquid.ast import BlockNode, ConditionalBlockNode
from liquid.builtin.tags.case_tag import CaseNode, MultiExpressionBlockNode
from liquid.builtin.tags.if_tag import IfNode
from liquid.builtin.tags.unless_tag import UnlessNode

from clarion.delivery.liquid.codegen.conditions import equals
from clarion.delivery.liquid.codegen.function import FunctionCompiler, LoopContext, compiles

__all__: list[str] = []


@compiles(IfNode)
def _if(fc: FunctionCompiler, node: IfNode) -> None:
    condition = fc.truth(node.condition)
    _branches(fc, condition, node)


@compiles(UnlessNode)
def _unless(fc: FunctionCompiler, node: UnlessNode) -> None:
    condition = fc.truth(node.condition)
    _branches(fc, f"not {condition}", node)


def _branches(fc: FunctionCompiler, condition: str, node: IfNode | UnlessNode) -> None:
    with fc.w.block(f"if {condition}:"):
        fc.block(node.consequence)
    _alternatives(fc, list(node.alternatives), node.default)


def _alternatives(
    fc: FunctionCompiler, alternatives: list[ConditionalBlockNode], default: BlockNode | None
) -> None:
    if not alternatives:
        if default is not None:
            with fc.w.block("else:"):
                fc.block(default)
        return
    first, rest = alternatives[0], alternatives[1:]
    with fc.w.block("else:"):
        condition = fc.truth(first.expression)
        with fc.w.block(f"if {condition}:"):
            fc.block(first.block)
        _alternatives(fc, rest, default)


@compiles(CaseNode)
def _case(fc: FunctionCompiler, node: CaseNode) -> None:
    """Every matching ``when`` renders, once per matching value; ``else`` if none did yet."""
    default = fc.w.temp("d")
    fc.w.line(f"{default} = True")
    for block in node.blocks:
        if isinstance(block, MultiExpressionBlockNode):
            _when(fc, block, default)
        else:
            with fc.w.block(f"if {default}:"):
                fc.block(block)


def _when(fc: FunctionCompiler, block: MultiExpressionBlockNode, default: str) -> None:
    any_expr = block.expression
    # The case subject is evaluated again for each ``when``: an earlier block may
    # have assigned to it. Each value is compared before the next is evaluated.
    left = fc.value(any_expr.left)
    rights = any_expr.expressions
    if len(rights) == 1:
        match = fc.w.temp("m")
        fc.w.line(f"{match} = {equals(fc, left, fc.value(rights[0]), rights[0])}")
        with fc.w.block(f"if {match}:"):
            fc.w.line(f"{default} = False")
            with fc.w.block(f"if {match} == True:"):
                fc.block(block.block)
        return
    found = fc.w.temp("m")
    fc.w.line(f"{found} = []")
    for right in rights:
        fc.w.line(f"{found}.append({equals(fc, left, fc.value(right), right)})")
    with fc.w.block(f"if any({found}):"):
        fc.w.line(f"{default} = False")
        # Rendered once per matching value, in a Python loop: break and continue
        # inside must travel as exceptions to the Liquid loop around the case.
        fc.loops.append(LoopContext("repeat"))
        try:
            with fc.w.block(f"for _ in range({found}.count(True)):"):
                fc.block(block.block)
        finally:
            fc.loops.pop()
