"""Tags that write: text, ``{{ output }}``, ``echo``, ``increment``, ``decrement``, ``cycle``.

Also the tags that render nothing (comments, ``doc``).
"""

from __future__ import annotations

from liquid.ast import IllegalNode, Node
from liquid.builtin.content import ContentNode
from liquid.builtin.expressions import FilteredExpression, StringLiteral
from liquid.builtin.output import OutputNode
from liquid.builtin.tags.comment_tag import CommentNode
from liquid.builtin.tags.cycle_tag import CycleNode
from liquid.builtin.tags.decrement_tag import DecrementNode
from liquid.builtin.tags.doc_tag import DocNode
from liquid.builtin.tags.echo_tag import EchoNode
from liquid.builtin.tags.increment_tag import IncrementNode
from liquid.builtin.tags.inline_comment_tag import InlineCommentNode

from clarion.delivery.liquid.codegen.function import FunctionCompiler, compiles

__all__ = ["stringify"]


def stringify(fc: FunctionCompiler, value: str) -> str:
    """``to_liquid_string(value, autoescape)`` as a Python expression."""
    if fc.env.autoescape:
        return f"(_escape({value}) if type({value}) is str else _to_liquid_string({value}, True))"
    return f"({value} if type({value}) is str else _to_liquid_string({value}, False))"


@compiles(ContentNode)
def _content(fc: FunctionCompiler, node: ContentNode) -> None:
    fc.out.write_text(node.text)


@compiles(OutputNode, EchoNode)
def _output(fc: FunctionCompiler, node: OutputNode) -> None:
    expr = node.expression
    if (
        not fc.env.autoescape
        and type(expr) is FilteredExpression
        and not expr.filters
        and type(expr.left) is StringLiteral
    ):
        fc.out.write_text(expr.left.value)  # a quoted string: known text
        return
    fc.out.write_str(stringify(fc, fc.value(expr)))


@compiles(CommentNode, InlineCommentNode, DocNode, IllegalNode)
def _nothing(fc: FunctionCompiler, node: Node) -> None:
    return None


@compiles(IncrementNode)
def _increment(fc: FunctionCompiler, node: IncrementNode) -> None:
    name = str(node.name)
    value = fc.w.temp("n")
    fc.w.line(f"{value} = _C.get({name!r}, 0)")
    fc.w.line(f"_C[{name!r}] = {value} + 1")
    fc.out.write_str(f"str({value})")


@compiles(DecrementNode)
def _decrement(fc: FunctionCompiler, node: DecrementNode) -> None:
    name = str(node.name)
    value = fc.w.temp("n")
    fc.w.line(f"{value} = _C.get({name!r}, 0) - 1")
    fc.w.line(f"_C[{name!r}] = {value}")
    fc.out.write_str(f"str({value})")


@compiles(CycleNode)
def _cycle(fc: FunctionCompiler, node: CycleNode) -> None:
    group_name = "''"
    if node.group:
        group = fc.value(node.group)
        group_name = fc.w.temp("g")
        fc.w.line(f"{group_name} = '__UNDEFINED' if _is_undefined({group}) else str({group})")
    args = fc.w.temp("a")
    values = [fc.value(arg) for arg in node.args]
    fc.w.line(f"{args} = [{', '.join(values)}]")
    key = fc.w.temp("key")
    if type(node).group_by_args:
        fc.w.line(f"{key} = ({group_name}, tuple({args}))")
    else:
        fc.w.line(f"{key} = {group_name} if {group_name} else str({args})")
    index = fc.w.temp("i")
    fc.w.line(f"{index} = st.cycle({key}, len({args}))")
    with fc.w.block(f"if {index} < len({args}):"):
        item = fc.w.temp("x")
        fc.w.line(f"{item} = {args}[{index}]")
        fc.out.write_str(stringify(fc, item))
