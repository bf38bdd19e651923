"""Tags that write: text, ``{{ output }}``, ``echo``, ``increment``, ``decrement``, ``cycle``.

Also the tags that render nothing (comments, ``doc``).
"""

from __future__ import annotations

from liquid.ast import IllegalNode, Node
from liquid.builtin.content import ContentNode
from liquid.builtin.expressions import StringLiteral
from liquid.builtin.output import OutputNode
from liquid.builtin.tags.comment_tag import CommentNode
from liquid.builtin.tags.cycle_tag import CycleNode
from liquid.builtin.tags.decrement_tag import DecrementNode
from liquid.builtin.tags.doc_tag import DocNode
from liquid.builtin.tags.echo_tag import EchoNode
from liquid.builtin.tags.increment_tag import IncrementNode
from liquid.builtin.tags.inline_comment_tag import InlineCommentNode

from clarion.delivery.liquid.codegen.function import NODE_HANDLERS, FunctionCompiler

__all__ = ["stringify"]


def stringify(fc: FunctionCompiler, value: str) -> str:
    """``to_liquid_string(value, autoescape)`` as a Python expression."""
    if fc.env.autoescape:
        return f"(_escape({value}) if type({value}) is str else _to_liquid_string({value}, True))"
    return f"({value} if type({value}) is str else _to_liquid_string({value}, False))"


def _content(fc: FunctionCompiler, node: Node) -> None:
    fc.out.write_text(node.text)  # type: ignore[attr-defined]


def _output(fc: FunctionCompiler, node: Node) -> None:
    expr = node.expression  # type: ignore[attr-defined]
    literal = getattr(expr, "left", None)
    if (
        not fc.env.autoescape
        and not getattr(expr, "filters", None)
        and type(literal) is StringLiteral
    ):
        fc.out.write_text(literal.value)
        return
    fc.out.write_str(stringify(fc, fc.value(expr)))


def _nothing(fc: FunctionCompiler, node: Node) -> None:
    return None


def _increment(fc: FunctionCompiler, node: Node) -> None:
    name = str(node.name)  # type: ignore[attr-defined]
    value = fc.w.temp("n")
    fc.w.line(f"{value} = _C.get({name!r}, 0)")
    fc.w.line(f"_C[{name!r}] = {value} + 1")
    fc.out.write_str(f"str({value})")


def _decrement(fc: FunctionCompiler, node: Node) -> None:
    name = str(node.name)  # type: ignore[attr-defined]
    value = fc.w.temp("n")
    fc.w.line(f"{value} = _C.get({name!r}, 0) - 1")
    fc.w.line(f"_C[{name!r}] = {value}")
    fc.out.write_str(f"str({value})")


def _cycle(fc: FunctionCompiler, node: Node) -> None:
    group_name = "''"
    if node.group:  # type: ignore[attr-defined]
        group = fc.value(node.group)  # type: ignore[attr-defined]
        group_name = fc.w.temp("g")
        fc.w.line(f"{group_name} = '__UNDEFINED' if _is_undefined({group}) else str({group})")
    args = fc.w.temp("a")
    values = [fc.value(arg) for arg in node.args]  # type: ignore[attr-defined]
    fc.w.line(f"{args} = [{', '.join(values)}]")
    key = fc.w.temp("key")
    if type(node).group_by_args:  # type: ignore[attr-defined]
        fc.w.line(f"{key} = ({group_name}, tuple({args}))")
    else:
        fc.w.line(f"{key} = {group_name} if {group_name} else str({args})")
    index = fc.w.temp("i")
    fc.w.line(f"{index} = st.cycle({key}, len({args}))")
    with fc.w.block(f"if {index} < len({args}):"):
        item = fc.w.temp("x")
        fc.w.line(f"{item} = {args}[{index}]")
        fc.out.write_str(stringify(fc, item))


NODE_HANDLERS.update(
    {
        ContentNode: _content,
        OutputNode: _output,
        EchoNode: _output,
        CommentNode: _nothing,
        InlineCommentNode: _nothing,
        DocNode: _nothing,
        IllegalNode: _nothing,
        IncrementNode: _increment,
        DecrementNode: _decrement,
        CycleNode: _cycle,
    }
)
