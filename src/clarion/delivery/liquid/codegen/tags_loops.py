"""``for``, ``tablerow``, ``break`` and ``continue``.

A ``for`` loop becomes a Python ``for`` over its items, with the loop variable and the
``forloop`` object in Python locals; ``forloop.index`` and friends are read from the
loop counter. The ``ForLoop`` object is still built, kept current and pushed on the
loop stack, because ``parentloop``, fragments and the iteration limit can observe it.
"""

from __future__ import annotations

from liquid.builtin.expressions import LoopExpression, StringLiteral
from liquid.builtin.tags.for_tag import BreakNode, ContinueNode, ForNode
from liquid.builtin.tags.tablerow_tag import TablerowNode

from clarion.delivery.liquid.codegen.analysis import loop_offset_key
from clarion.delivery.liquid.codegen.function import FunctionCompiler, LoopContext, compiles
from clarion.delivery.liquid.codegen.scope import Binding, LoopCounters

__all__ = ["loop_items"]


def loop_items(
    fc: FunctionCompiler, expr: LoopExpression, key: str, *, fast: bool = True
) -> tuple[str, str]:
    """Write ``LoopExpression.evaluate``; returns names of the iterable and its length."""
    value = fc.value(expr.iterable)
    items, length = fc.w.temp("it"), fc.w.temp("len")
    loop_expr = fc.const(expr, "loopexpr")
    plain = expr.limit is None and expr.offset is None and not fc.shares_loop_offsets(key)
    if fast and plain and value.isidentifier():
        # A list without limit or offset: python-liquid's slicing keeps every item.
        with fc.w.block(f"if type({value}) is list:"):
            fc.w.line(f"{items} = {value}[::-1]" if expr.reversed else f"{items} = {value}")
            fc.w.line(f"{length} = len({value})")
        with fc.w.block("else:"):
            _general_items(fc, expr, loop_expr, value, items, length)
    else:
        _general_items(fc, expr, loop_expr, value, items, length)
    return items, length


def _general_items(
    fc: FunctionCompiler, expr: LoopExpression, loop_expr: str, value: str, items: str, length: str
) -> None:
    fc.w.line(f"{items}, {length} = {loop_expr}._to_iter({value}, st)")
    limit = "None"
    if expr.limit is not None:
        limit_value = fc.value(expr.limit)
        limit = fc.w.temp("limit")
        tok = fc.token(expr.limit.token)
        fc.w.line(f"{limit} = {loop_expr}._to_int({limit_value}, token={tok})")
    offset = "None"
    if isinstance(expr.offset, StringLiteral):
        offset = repr(expr.offset.value)
        if expr.offset.value != "continue":
            tok = fc.token(expr.offset.token)
            offset = fc.w.temp("offset")
            fc.w.line(f"{offset} = {loop_expr}._to_int({expr.offset.value!r}, token={tok})")
    elif expr.offset is not None:
        offset_value = fc.value(expr.offset)
        offset = fc.w.temp("offset")
        tok = fc.token(expr.offset.token)
        fc.w.line(f"{offset} = {loop_expr}._to_int({offset_value}, token={tok})")
    fc.w.line(
        f"{items}, {length} = {loop_expr}._slice({items}, {length}, st, "
        f"limit={limit}, offset={offset})"
    )


@compiles(ForNode)
def _for(fc: FunctionCompiler, node: ForNode) -> None:
    expr = node.expression
    key = loop_offset_key(node)
    items, length = loop_items(fc, expr, key)
    with fc.w.block(f"if {length}:"):
        forloop, index, item = fc.w.temp("forloop"), fc.w.temp("i"), fc.w.temp("item")
        fc.w.line(f"{forloop} = _ForLoop({key!r}, {items}, {length}, {fc.parentloop()})")
        fc.check_loop_limit(length)
        tracked = fc.observes_loop_stack()
        if tracked:
            fc.w.line(f"st.loops.append({forloop})")
        fc.check_scope_depth(fc.scope_size(), "include")
        bindings = {
            "forloop": Binding(forloop, LoopCounters(index, length, key)),
            expr.identifier: Binding(item),
        }
        fc.scope.push(bindings)
        loop = LoopContext("for", loop_object=forloop, length=length)
        fc.loops.append(loop)
        try:
            with fc.w.block(f"for {index}, {item} in enumerate({items}):"):
                fc.w.line(f"{forloop}._index = {index}")
                body = fc.w.mark()
                fc.block(node.block)
                if loop.catches:
                    fc.w.wrap_since(
                        body,
                        "try:",
                        ["except _ContinueLoop:", "    pass", "except _BreakLoop:", "    break"],
                    )
            with fc.w.block("else:"):
                fc.w.line(f"{forloop}._index += 1")
        finally:
            fc.loops.pop()
            fc.scope.pop()
        if tracked:
            fc.w.line("st.loops.pop()")
    if node.default is not None:
        with fc.w.block("else:"):
            fc.block(node.default)


@compiles(TablerowNode)
def _tablerow(fc: FunctionCompiler, node: TablerowNode) -> None:
    expr = node.expression
    items, length = loop_items(fc, expr, loop_offset_key(node), fast=False)
    with fc.w.block(f"if {length}:"):
        cols = length
        if expr.cols:
            cols_value = fc.value(expr.cols)
            cols = fc.w.temp("cols")
            fc.w.line(f"{cols} = {fc.const(node, 'tablerow')}._int_or_zero({cols_value})")
        fc.check_loop_limit(length)
        row = fc.w.temp("tablerow")
        fc.w.line(f"{row} = _TableRow({expr.identifier!r}, {items}, {length}, {cols})")
        fc.out.write_text('<tr class="row1">\n')
        fc.check_loop_limit(length)
        tracked = fc.observes_loop_stack()
        if tracked:
            fc.w.line(f"st.loops.append({row})")
        fc.check_scope_depth(fc.scope_size(), "include")
        item, stop = fc.w.temp("item"), fc.w.temp("stop")
        fc.w.line(f"{stop} = False")
        fc.scope.push({"tablerowloop": Binding(row), expr.identifier: Binding(item)})
        fc.loops.append(LoopContext("tablerow", loop_object=row, length=length))
        try:
            with fc.w.block(f"for {item} in {row}:"):
                fc.out.write_str(f"f'<td class=\"col{{{row}.col}}\">'")
                _tablerow_cell(fc, node, stop)
                fc.out.write_text("</td>")
                with fc.w.block(f"if {row}.col_last and not {row}.last:"):
                    fc.out.write_str(f"f'</tr>\\n<tr class=\"row{{{row}.row + 1}}\">'")
                with fc.w.block(f"if {stop}:"):
                    fc.w.line("break")
        finally:
            fc.loops.pop()
            fc.scope.pop()
        if tracked:
            fc.w.line("st.loops.pop()")
        fc.out.write_text("</tr>\n")


def _tablerow_cell(fc: FunctionCompiler, node: TablerowNode, stop: str) -> None:
    catches = type(node).interrupts
    with fc.w.block("try:"):
        fc.block(node.block)
    with fc.w.block("except _BreakLoop:"):
        fc.w.line(f"{stop} = True" if catches else "raise")
    with fc.w.block("except _ContinueLoop:"):
        fc.w.line("pass" if catches else "raise")


@compiles(BreakNode)
def _break(fc: FunctionCompiler, node: BreakNode) -> None:
    fc.w.line(fc.interrupt_statement("break"))


@compiles(ContinueNode)
def _continue(fc: FunctionCompiler, node: ContinueNode) -> None:
    fc.w.line(fc.interrupt_statement("continue"))
