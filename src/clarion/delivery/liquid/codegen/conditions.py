"""Conditions of ``if``, ``unless`` and ``elsif``: Liquid truthiness, comparisons, and/or.

The fast paths compare plain ``str``/``int``/``float``/``None`` values with Python
operators, where python-liquid's ``_eq``, ``_lt`` and ``_le`` give the same answer; any
other type goes through those functions themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from liquid.builtin.expressions.logical import (
    BooleanExpression,
    ContainsExpression,
    EqExpression,
    GeExpression,
    GtExpression,
    LeExpression,
    LogicalAndExpression,
    LogicalNotExpression,
    LogicalOrExpression,
    LtExpression,
    NeExpression,
    is_truthy,
)
from liquid.builtin.expressions.primitive import (
    FalseLiteral,
    FloatLiteral,
    IntegerLiteral,
    Literal,
    Nil,
    StringLiteral,
    TrueLiteral,
)
from liquid.expression import Expression
from liquid.token import Token

from clarion.delivery.liquid.codegen.function import FunctionCompiler, evaluates

__all__ = ["compile_truth", "equals"]

_LITERALS = (Nil, TrueLiteral, FalseLiteral, IntegerLiteral, FloatLiteral, StringLiteral)
_PLAIN_LITERALS = (Nil, IntegerLiteral, FloatLiteral)


class _Binary(Protocol):
    left: Expression
    right: Expression
    token: Token


@evaluates(
    BooleanExpression,
    LogicalAndExpression,
    LogicalOrExpression,
    LogicalNotExpression,
    EqExpression,
    NeExpression,
    LtExpression,
    GtExpression,
    LeExpression,
    GeExpression,
    ContainsExpression,
)
def compile_truth(fc: FunctionCompiler, expr: Expression) -> str:
    """Write code deciding ``expr``; returns a Python expression that is a bool."""
    kind = type(expr)
    if kind is BooleanExpression:
        return compile_truth(fc, cast(BooleanExpression, expr).expression)
    if kind is LogicalAndExpression or kind is LogicalOrExpression:
        return _logical(fc, cast(_Binary, expr), conjunction=kind is LogicalAndExpression)
    if kind is LogicalNotExpression:
        return f"(not {compile_truth(fc, cast(LogicalNotExpression, expr).right)})"
    comparison = _COMPARISONS.get(kind)
    if comparison is not None:
        return comparison(fc, cast(_Binary, expr))
    if kind in _LITERALS:
        literal = None if kind is Nil else cast(Literal[object], expr).value
        return repr(is_truthy(literal))
    return truthy(fc.value(expr))


def truthy(value: str) -> str:
    """Liquid truthiness of a Python name or literal."""
    return (
        f"(({value} is not False and {value} is not None) "
        f"if type({value}) in _PLAIN_TRUTHY else _is_truthy({value}))"
    )


def equals(fc: FunctionCompiler, left: str, right: str, right_expr: Expression | None) -> str:
    """python-liquid's ``_eq(left, right)`` for two evaluated values."""
    plain_left = f"type({left}) in _PLAIN"
    if right_expr is not None and (
        type(right_expr) in _PLAIN_LITERALS
        or (type(right_expr) is StringLiteral and not fc.env.autoescape)
    ):
        return f"(({left} == {right}) if {plain_left} else _eq({left}, {right}))"
    if right_expr is not None and type(right_expr) in _LITERALS:
        return f"_eq({left}, {right})"
    plain = f"{plain_left} and type({right}) in _PLAIN"
    return f"(({left} == {right}) if {plain} else _eq({left}, {right}))"


def _logical(fc: FunctionCompiler, expr: _Binary, *, conjunction: bool) -> str:
    result = fc.w.temp("c")
    fc.w.line(f"{result} = {compile_truth(fc, expr.left)}")
    with fc.w.block(f"if {'' if conjunction else 'not '}{result}:"):
        fc.w.line(f"{result} = {compile_truth(fc, expr.right)}")
    return result


def _operands(fc: FunctionCompiler, expr: _Binary, *, right_first: bool = False) -> tuple[str, str]:
    """Evaluate both operands, in python-liquid's order; values are names or literals."""
    left_expr, right_expr = expr.left, expr.right
    if right_first:
        right = fc.value(right_expr)
        return fc.value(left_expr), right
    left = fc.value(left_expr)
    return left, fc.value(right_expr)


def _eq_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    left, right = _operands(fc, expr)
    return equals(fc, left, right, expr.right)


def _ne_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    return f"(not {_eq_expression(fc, expr)})"


def _ordered(fc: FunctionCompiler, op: str, func: str, first: str, second: str) -> str:
    numbers = f"type({first}) in _NUMBER and type({second}) in _NUMBER"
    return f"(({first} {op} {second}) if {numbers} else {func})"


def _lt_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    left, right = _operands(fc, expr)
    tok = fc.token(expr.token)
    return _ordered(fc, "<", f"_lt({tok}, {left}, {right})", left, right)


def _gt_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    left, right = _operands(fc, expr, right_first=True)  # as python-liquid evaluates it
    tok = fc.token(expr.token)
    return _ordered(fc, "<", f"_lt({tok}, {right}, {left})", right, left)


def _le_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    left, right = _operands(fc, expr)
    return _ordered(fc, "<=", f"_le({left}, {right})", left, right)


def _ge_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    left, right = _operands(fc, expr)
    return _ordered(fc, "<=", f"_le({right}, {left})", right, left)


def _contains_expression(fc: FunctionCompiler, expr: _Binary) -> str:
    left, right = _operands(fc, expr)
    return f"_contains({fc.token(expr.token)}, {left}, {right})"


_COMPARISONS: dict[type, Callable[[FunctionCompiler, _Binary], str]] = {
    EqExpression: _eq_expression,
    NeExpression: _ne_expression,
    LtExpression: _lt_expression,
    GtExpression: _gt_expression,
    LeExpression: _le_expression,
    GeExpression: _ge_expression,
    ContainsExpression: _contains_expression,
}
