"""Resolve variables: ``name``, ``name.key``, ``name[0]``, ``name[other.path]``.

Mirrors ``RenderContext.get``: the root name is searched in the scope chain (loop
namespaces, ``partial``, an ``include``'s namespace, assigned variables, render data,
``now``/``today``, counters); each further segment goes through ``get_item``; the first
miss gives an undefined value carrying python-liquid's hint.
"""

from __future__ import annotations

from collections.abc import Sequence

from liquid.builtin.expressions import Path
from liquid.context import _segments_str

from clarion.delivery.liquid.codegen.function import FunctionCompiler, Variant, evaluates

__all__ = ["compile_path", "lookup_name"]

_BUILTIN_NAMES = frozenset(("now", "today"))
_FORLOOP_FIELDS = {
    "index": "({i} + 1)",
    "index0": "{i}",
    "rindex": "({n} - {i})",
    "rindex0": "({n} - {i} - 1)",
    "first": "({i} == 0)",
    "last": "({i} == {n} - 1)",
    "length": "{n}",
}


def lookup_name(fc: FunctionCompiler, name: str, target: str) -> bool:
    """Write code setting ``target`` to the value of ``name``, or ``_MISSING``.

    Returns False when the name is bound lexically and cannot be missing.
    """
    binding = fc.scope.lookup(name)
    if binding is not None:
        fc.w.line(f"{target} = {binding.expr}")
        return False
    sources = []
    if fc.variant is Variant.INCLUDE:
        sources.append("dyn")
    if fc.may_be_local(name):
        sources.append("_L")
    sources.append("_G")
    if name in _BUILTIN_NAMES:
        sources.append("_builtin")
    if fc.may_be_counter(name):
        sources.append("_C")
    _chain(fc, name, target, sources)
    return True


def _chain(fc: FunctionCompiler, name: str, target: str, sources: list[str]) -> None:
    first, rest = sources[0], sources[1:]
    fc.w.line(f"{target} = {first}.get({name!r}, _MISSING)")
    if rest:
        with fc.w.block(f"if {target} is _MISSING:"):
            _chain(fc, name, target, rest)


@evaluates(Path)
def compile_path(fc: FunctionCompiler, path: Path) -> str:
    """Write code resolving ``path``; returns the temporary holding its value."""
    segments = path.path
    # python-liquid evaluates nested paths before resolving the outer one.
    values = [fc.value(s) if isinstance(s, Path) else repr(s) for s in segments]
    tok = fc.token(path.token)
    result = fc.w.temp("v")
    root = segments[0]
    if isinstance(root, Path):
        scope = f"st.scope_view({fc.scope.snapshot_code()}, {_dyn(fc)})"
        fc.w.line(f"{result} = _resolve_computed(_ctx, {scope}, [{', '.join(values)}], {tok})")
        return result
    if not isinstance(root, str):
        hint = fc.const(f"{root} is undefined")
        fc.w.line(f"{result} = _undefined({str(root)!r}, hint={hint}, token={tok})")
        return result
    binding = fc.scope.lookup(root)
    if binding is not None and binding.loop is not None and len(segments) > 1:
        field, loop = segments[1], binding.loop
        if isinstance(field, str) and (field in _FORLOOP_FIELDS or field == "name"):
            if field == "name":
                fc.w.line(f"{result} = {fc.const(loop.name)}")
            else:
                code = _FORLOOP_FIELDS[field].format(i=loop.index0, n=loop.length)
                fc.w.line(f"{result} = {code}")
            _walk(fc, result, segments, values, start=2, tok=tok)
            return result
    if lookup_name(fc, root, result):
        with fc.w.block(f"if {result} is _MISSING:"):
            hint = fc.const(f"{root!r} is undefined")
            fc.w.line(f"{result} = _undefined({root!r}, hint={hint}, token={tok})")
        if len(segments) > 1:
            with fc.w.block("else:"):
                _walk(fc, result, segments, values, start=1, tok=tok)
    else:
        _walk(fc, result, segments, values, start=1, tok=tok)
    return result


def _dyn(fc: FunctionCompiler) -> str:
    return "dyn" if fc.variant is Variant.INCLUDE else "None"


def _walk(
    fc: FunctionCompiler,
    result: str,
    segments: Sequence[object],
    values: list[str],
    *,
    start: int,
    tok: str,
) -> None:
    """Write ``get_item`` for ``segments[start:]``, starting from ``result``."""
    if start >= len(segments):
        return
    root = segments[0]
    if start != 1 or any(isinstance(s, Path) for s in segments[start:]):
        # Computed keys, or a path going on from a loop counter: the general walk,
        # with hints computed from the evaluated segments.
        path_values = ", ".join(values)
        fc.w.line(f"{result} = _walk(_ctx, {result}, [{path_values}], {tok}, {start})")
        return
    hints = fc.const(
        tuple(
            f"{_segments_str(list(segments[: i + 2]))} is undefined"
            for i in range(len(segments) - 1)
        )
    )
    step = fc.w.temp("i") if len(segments) > 2 else None
    with fc.w.block("try:"):
        for i, segment in enumerate(segments[1:]):
            if step is not None:
                fc.w.line(f"{step} = {i}")
            fc.w.line(f"{result} = {_item(result, segment)}")
    with fc.w.block("except (KeyError, TypeError):"):
        hint = f"{hints}[{step if step is not None else 0}]"
        fc.w.line(f"{result} = _undefined({root!r}, hint={hint}, token={tok})")
    with fc.w.block("except IndexError:"):
        fc.w.line(f"{result} = _undefined({root!r}, hint='index out of range', token={tok})")


def _item(obj: str, segment: object) -> str:
    """A Python expression equal to ``get_item(obj, segment)`` for a literal segment."""
    if isinstance(segment, int):
        return f"{obj}[{segment!r}] if type({obj}) in _INDEXABLE else _get_item({obj}, {segment!r})"
    if segment == "size":
        return f"len({obj}) if type({obj}) in _SIZED else _get_item({obj}, 'size')"
    if segment == "first":
        return f"{obj}[0] if type({obj}) is list else _get_item({obj}, 'first')"
    if segment == "last":
        return f"{obj}[-1] if type({obj}) is list else _get_item({obj}, 'last')"
    return f"{obj}[{segment!r}]"
