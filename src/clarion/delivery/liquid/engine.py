"""The public face of the renderer: an engine that compiles templates, and their renders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liquid import BoundTemplate, Undefined
from liquid.builtin.expressions import StringLiteral
from liquid.builtin.tags.include_tag import IncludeNode
from liquid.builtin.tags.render_tag import RenderNode

from clarion.delivery.liquid.codegen.analysis import walk
from clarion.delivery.liquid.codegen.assemble import RenderFunction, compile_template
from clarion.delivery.liquid.codegen.function import BASE_SCOPE_SIZE, Variant
from clarion.delivery.liquid.codegen.prelude import runtime_namespace
from clarion.delivery.liquid.errors import RuntimeFallback, UnsupportedConstruct
from clarion.delivery.liquid.fragments import FragmentLibrary
from clarion.delivery.liquid.limits import RenderLimits, build_environment
from clarion.delivery.liquid.metrics import RenderMetrics
from clarion.delivery.liquid.state import OutputBuffer, RenderState

__all__ = ["CompiledTemplate", "LiquidEngine"]


class LiquidEngine:
    """Compiles Liquid templates to Python, rendering exactly as python-liquid would.

    Args:
        fragments: Fragment sources by name, for ``{% render 'name' %}`` and
            ``{% include 'name' %}``. Read on each use, so the mapping may change.
        limits: Resource limits for every render (``RenderLimits()`` by default).
        undefined: python-liquid's ``Undefined`` (missing variables render as nothing)
            or ``StrictUndefined`` (using one raises ``UndefinedError``).
        autoescape: HTML-escape output unless marked safe.
        metrics: Counters to update; a new ``RenderMetrics`` by default.

    ``env`` is the python-liquid environment the engine parses with; rendering a
    template with it (``env.from_string(source).render(**data)``) is the reference
    behaviour, and what the engine falls back to.
    """

    def __init__(
        self,
        *,
        fragments: Mapping[str, str] | None = None,
        limits: RenderLimits | None = None,
        undefined: type[Undefined] = Undefined,
        autoescape: bool = False,
        metrics: RenderMetrics | None = None,
    ) -> None:
        self.fragments: Mapping[str, str] = fragments if fragments is not None else {}
        self.limits = limits if limits is not None else RenderLimits()
        self.undefined = undefined
        self.autoescape = autoescape
        self.metrics = metrics if metrics is not None else RenderMetrics()
        self.env = build_environment(
            limits=self.limits,
            undefined=undefined,
            autoescape=autoescape,
            fragments=self.fragments,
        )
        self._library = FragmentLibrary(self.env, self._compile_function)
        self._namespace = runtime_namespace(self.env, self._library)

    def compile(self, source: str, *, name: str = "") -> CompiledTemplate:
        """Parse and compile ``source``.

        Raises python-liquid's ``LiquidSyntaxError`` (and other parse errors) exactly as
        ``Environment.from_string`` does. A template the compiler cannot translate still
        compiles: it renders with python-liquid, counted in ``metrics``.
        """
        bound = self.env.from_string(source, name=name)
        try:
            function: RenderFunction | None = self._compile_function(bound, Variant.ROOT)
        except UnsupportedConstruct as exc:
            self.metrics.template_fell_back(str(exc))
            function = None
        else:
            self.metrics.template_compiled()
        return CompiledTemplate(self, source, bound, function)

    def _compile_function(self, template: BoundTemplate, variant: Variant) -> RenderFunction:
        return compile_template(template, variant, self._namespace)

    def __reduce__(self) -> tuple[Any, ...]:
        # Generated functions do not pickle; an engine is rebuilt from its settings,
        # so templates can be sent to worker processes.
        return (
            _rebuild_engine,
            (dict(self.fragments), self.limits, self.undefined, self.autoescape),
        )


def _rebuild_engine(
    fragments: dict[str, str],
    limits: RenderLimits,
    undefined: type[Undefined],
    autoescape: bool,
) -> LiquidEngine:
    return LiquidEngine(
        fragments=fragments, limits=limits, undefined=undefined, autoescape=autoescape
    )


class CompiledTemplate:
    """A template ready to render many times.

    Attributes:
        name: The name given to ``LiquidEngine.compile``.
        source: The template text.
        is_compiled: False when the template renders with python-liquid.
        fragment_names: Fragments named literally by ``render``/``include`` tags, for
            checking that they exist when the template is saved.
    """

    def __init__(
        self,
        engine: LiquidEngine,
        source: str,
        bound: BoundTemplate,
        function: RenderFunction | None,
    ) -> None:
        self.engine = engine
        self.name = bound.name
        self.source = source
        self.bound = bound
        self._function = function
        self._limit = engine.env.output_stream_limit
        self.fragment_names = frozenset(
            node.name.value
            for node in walk(bound.nodes)
            if isinstance(node, RenderNode | IncludeNode) and isinstance(node.name, StringLiteral)
        )

    @property
    def is_compiled(self) -> bool:
        """True when renders run compiled code (not python-liquid's fallback)."""
        return self._function is not None

    def render(self, context: Mapping[str, object] | None = None) -> str:
        """Render with ``context`` as the template's variables.

        Raises what python-liquid raises for the same template and data (subclasses of
        ``liquid.exceptions.LiquidError``, such as ``UndefinedError`` or
        ``OutputStreamLimitError``).
        """
        data = context if type(context) is dict else dict(context or {})
        function = self._function
        metrics = self.engine.metrics
        if function is None:
            metrics.render_fell_back()
            return self.bound.render(data)
        buf: list[str] = [] if self._limit is None else OutputBuffer(self._limit)
        try:
            function(RenderState(self.engine.env, data), None, BASE_SCOPE_SIZE, buf)
        except RuntimeFallback as exc:
            metrics.render_fell_back(str(exc))
            return self.bound.render(data)
        metrics.render_compiled()
        return "".join(buf)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_recompile, (self.engine, self.source, self.name))


def _recompile(engine: LiquidEngine, source: str, name: str) -> CompiledTemplate:
    return engine.compile(source, name=name)
