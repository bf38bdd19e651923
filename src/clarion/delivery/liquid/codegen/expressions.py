"""Literals, ranges and filtered expressions (``value | filter: arg, key: arg``)."""

from __future__ import annotations

from functools import partial

from liquid.builtin.expressions import FilteredExpression
from liquid.builtin.expressions.filtered import Filter
from liquid.builtin.expressions.primitive import (
    Blank,
    Empty,
    FalseLiteral,
    FloatLiteral,
    IntegerLiteral,
    Nil,
    RangeLiteral,
    StringLiteral,
    TrueLiteral,
)
from liquid.expression import Expression
from markupsafe import Markup

from clarion.delivery.liquid.codegen.function import FunctionCompiler, evaluates
from clarion.delivery.liquid.errors import UnsupportedConstruct

__all__ = ["compile_filter"]


@evaluates(Nil)
def _nil(fc: FunctionCompiler, expr: Nil) -> str:
    return "None"


@evaluates(TrueLiteral)
def _true(fc: FunctionCompiler, expr: TrueLiteral) -> str:
    return "True"


@evaluates(FalseLiteral)
def _false(fc: FunctionCompiler, expr: FalseLiteral) -> str:
    return "False"


@evaluates(IntegerLiteral)
def _integer(fc: FunctionCompiler, expr: IntegerLiteral) -> str:
    return f"({expr.value!r})"


@evaluates(FloatLiteral)
def _float(fc: FunctionCompiler, expr: FloatLiteral) -> str:
    return fc.const(expr.value)  # a constant: ``repr`` of inf is not Python


@evaluates(Empty, Blank)
def _itself(fc: FunctionCompiler, expr: Expression) -> str:
    """``empty`` and ``blank`` evaluate to the expression object, which defines ``==``."""
    return fc.const(expr)


@evaluates(StringLiteral)
def _string(fc: FunctionCompiler, expr: StringLiteral) -> str:
    text = expr.value
    if fc.env.autoescape:
        return fc.const(Markup(text))
    return repr(text)


@evaluates(RangeLiteral)
def _range(fc: FunctionCompiler, expr: RangeLiteral) -> str:
    start = fc.value(expr.start)
    stop = fc.value(expr.stop)
    result = fc.w.temp("r")
    fc.w.line(f"{result} = {fc.const(expr)}._make_range({start}, {stop})")
    return result


@evaluates(FilteredExpression)
def _filtered(fc: FunctionCompiler, expr: FilteredExpression) -> str:
    value = fc.value(expr.left)
    for flt in expr.filters or ():
        value = compile_filter(fc, flt, value)
    return value


def compile_filter(fc: FunctionCompiler, flt: Filter, left: str) -> str:
    """Write one filter application (``Filter.evaluate``); returns the result's name."""
    env = fc.env
    tok = fc.token(flt.token)
    func = env.filters.get(flt.name)
    if func is None and env.strict_filters:
        message = fc.const(f"unknown filter '{flt.name}'")
        fc.w.line(f"raise _UnknownFilterError({message}, token={tok})")
        return "None"
    if func is not None and getattr(func, "with_context", False):
        raise UnsupportedConstruct(f"filter {flt.name!r} needs a render context")
    positional: list[str] = []
    keywords: list[str] = []
    for arg in flt.args:
        value = fc.value(arg.value)
        name = getattr(arg, "name", None)
        if name:
            keywords.append(f"{name!r}: {value}")
        else:
            positional.append(value)
    if func is None:  # python-liquid's no-op filter for unknown names in lax mode
        return left
    if getattr(func, "with_environment", False):
        func = partial(func, environment=env)
    call_args = [left, *positional]
    if keywords:
        call_args.append("**{" + ", ".join(keywords) + "}")
    result = fc.w.temp("f")
    with fc.w.block("try:"):
        fc.w.line(f"{result} = {fc.const(func, 'filter')}({', '.join(call_args)})")
    with fc.w.block("except TypeError as _e:"):
        fc.w.line(f"raise _filter_type_error({fc.const(flt.name)}, _e, {tok}) from _e")
    with fc.w.block("except (_LiquidTypeError, _FilterArgumentError) as _e:"):
        fc.w.line(f"_e.token = {tok}")
        fc.w.line("raise")
    return result
