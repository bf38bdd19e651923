"""``include`` and ``render``: fragments from the engine's fragment library.

A fragment is compiled once per variant. ``include`` hands it the caller's state and a
dict of every name the caller sees in Python locals (loop variables, ``forloop``,
``partial``) under the include's own arguments; ``render`` gives it a fresh state whose
globals are the arguments in front of the caller's globals, as python-liquid does.
"""

from __future__ import annotations

from liquid.builtin.expressions import Identifier
from liquid.builtin.tags.include_tag import IncludeNode
from liquid.builtin.tags.render_tag import RenderNode
from liquid.token import Token

from clarion.delivery.liquid.codegen.function import (
    BASE_SCOPE_SIZE,
    FunctionCompiler,
    Variant,
    compiles,
)
from clarion.delivery.liquid.codegen.paths import lookup_name
from clarion.delivery.liquid.codegen.scope import Binding

__all__: list[str] = []


def _load(fc: FunctionCompiler, name: str, tag: str, name_token: Token | None) -> str:
    fragment = fc.w.temp("fragment")
    fc.w.line(
        f"{fragment} = _fragments.load({name}, {tag!r}, {fc.token(name_token)}, "
        f"{fc.const(fc.template_name)})"
    )
    return fragment


@compiles(IncludeNode)
def _include(fc: FunctionCompiler, node: IncludeNode) -> None:
    if fc.variant is Variant.RENDER:
        message = fc.const(f"{node.token.value} usage is not allowed in this context")
        fc.w.line(f"raise _DisabledTagError({message}, token={fc.token(node.token)})")
        return
    fc.interrupts_may_arrive()  # a break in the fragment ends the caller's loop
    name = fc.value(node.name)
    fragment = _load(fc, f"str({name})", "include", node.name.token)
    namespace = fc.w.temp("ns")
    fc.w.line(f"{namespace} = {{}}")
    for arg in node.args:
        fc.w.line(f"{namespace}[{arg.name!r}] = {fc.value(arg.value)}")
    size = fc.scope_size()
    fc.check_scope_depth(size, "include")
    depth = f"({size}) + 1"
    if node.var is None:
        _call_include(fc, fragment, namespace, depth)
        return
    fc.scope.push({arg.name: Binding(f"{namespace}[{arg.name!r}]") for arg in node.args})
    try:
        value = fc.value(node.var)
    finally:
        fc.scope.pop()
    key = repr(str(node.alias)) if node.alias else f"{fragment}.key"
    with fc.w.block(f"if isinstance({value}, (tuple, list, _IterableDrop)):"):
        fc.check_loop_limit(f"len({value})")
        item = fc.w.temp("item")
        with fc.w.block(f"for {item} in {value}:"):
            fc.w.line(f"{namespace}[{key}] = {item}")
            _call_include(fc, fragment, namespace, depth)
    with fc.w.block("else:"):
        fc.w.line(f"{namespace}[{key}] = {value}")
        _call_include(fc, fragment, namespace, depth)


def _call_include(fc: FunctionCompiler, fragment: str, namespace: str, depth: str) -> None:
    outer = "**dyn, " if fc.variant is Variant.INCLUDE else ""
    names = f"{{{outer}**{fc.scope.snapshot_code()}, **{namespace}}}"
    with fc.out.shared() as buf:
        fc.w.line(f"{fragment}.include(st, {names}, {depth}, {buf})")


@compiles(RenderNode)
def _render(fc: FunctionCompiler, node: RenderNode) -> None:
    if isinstance(node.name, Identifier):
        _inline_snippet(fc, node)
        return
    fragment = _load(fc, repr(node.name.value), "render", node.name.token)
    args = fc.w.temp("args")
    fc.w.line(f"{args} = {{}}")
    for arg in node.args:
        fc.w.line(f"{args}[{arg.name!r}] = {fc.value(arg.value)}")
    state = fc.w.temp("st")
    fc.w.line(f"{state} = st.for_render(_ReadOnlyChainMap({args}))")
    if node.var is None:
        _call_render(fc, fragment, state)
        return
    value = fc.value(node.var)
    key = repr(str(node.alias)) if node.alias else f"{fragment}.key"
    if node.loop:
        with fc.w.block(f"if isinstance({value}, (tuple, list, _IterableDrop)):"):
            if fc.env.loop_iteration_limit:
                fc.w.line(f"{state}.raise_for_loop_limit(len({value}))")
            forloop, item = fc.w.temp("forloop"), fc.w.temp("item")
            parentloop = f"_undefined('parentloop', token={fc.token(node.token)})"
            fc.w.line(f"{forloop} = _ForLoop({key}, iter({value}), len({value}), {parentloop})")
            fc.w.line(f"{args}['forloop'] = {forloop}")
            fc.w.line(f"{args}[{key}] = None")
            with fc.w.block(f"for {item} in {forloop}:"):
                fc.w.line(f"{args}[{key}] = {item}")
                _call_render(fc, fragment, state)
        with fc.w.block("else:"):
            fc.w.line(f"{args}[{key}] = {value}")
            _call_render(fc, fragment, state)
    else:
        fc.w.line(f"{args}[{key}] = {value}")
        _call_render(fc, fragment, state)


def _call_render(fc: FunctionCompiler, fragment: str, state: str) -> None:
    with fc.out.shared() as buf:
        fc.w.line(f"{fragment}.render({state}, {BASE_SCOPE_SIZE}, {buf})")


def _inline_snippet(fc: FunctionCompiler, node: RenderNode) -> None:
    """``{% render name %}`` with an unquoted name renders a template held in a variable.

    Only the ``snippet`` tag (not enabled here) makes such values, so this is nearly
    always python-liquid's "template not found"; a real template falls back.
    """
    name = str(node.name)
    value = fc.w.temp("snippet")
    if lookup_name(fc, name, value):
        with fc.w.block(f"if {value} is _MISSING:"):
            fc.w.line(f"{value} = None")
    with fc.w.block(f"if not isinstance({value}, _BoundTemplate):"):
        filename, tok = fc.const(fc.template_name), fc.token(node.name.token)
        fc.w.line(f"raise _TemplateNotFoundError({name!r}, filename={filename}, token={tok})")
    fc.w.line("raise _RuntimeFallback('render of a template held in a variable')")
