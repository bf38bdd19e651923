"""The fragments that ``{% render %}`` and ``{% include %}`` load, compiled once each.

Loading goes through the environment's loader on every use, as python-liquid does, so
a missing or broken fragment fails the same way each time; parsed and compiled
fragments are cached by name and source text, so a changed fragment is recompiled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError, TemplateNotFoundError
from liquid.token import Token

from clarion.delivery.liquid.codegen.function import Variant
from clarion.delivery.liquid.errors import RuntimeFallback, UnsupportedConstruct

__all__ = ["Fragment", "FragmentLibrary"]

CompileFunction = Callable[[BoundTemplate, Variant], Callable[..., None]]


class Fragment:
    """A parsed fragment and its compiled forms for ``include`` and ``render``."""

    __slots__ = ("_compile", "_include", "_render", "key", "template")

    def __init__(self, template: BoundTemplate, compile_function: CompileFunction) -> None:
        self.template = template
        self.key = template.name.split(".")[0]
        """The variable ``with``/``for`` binds when no ``as`` alias is given."""
        self._compile = compile_function
        self._include: Callable[..., None] | None = None
        self._render: Callable[..., None] | None = None

    def include(self, state: Any, names: dict[str, object], depth: int, buf: list[str]) -> None:
        """Render into ``buf`` sharing the caller's ``state``."""
        if self._include is None:
            self._include = self._compiled(Variant.INCLUDE)
        self._include(state, names, depth, buf)

    def render(self, state: Any, depth: int, buf: list[str]) -> None:
        """Render into ``buf`` with an isolated ``state``."""
        if self._render is None:
            self._render = self._compiled(Variant.RENDER)
        self._render(state, None, depth, buf)

    def _compiled(self, variant: Variant) -> Callable[..., None]:
        try:
            return self._compile(self.template, variant)
        except UnsupportedConstruct as exc:
            reason = f"fragment {self.template.name!r}: {exc}"

            def _fall_back(*_args: object) -> None:
                raise RuntimeFallback(reason)

            return _fall_back


class FragmentLibrary:
    """Loads fragments through an environment's loader; caches their compiled forms."""

    def __init__(self, env: Environment, compile_function: CompileFunction, capacity: int = 512):
        self._env = env
        self._compile = compile_function
        self._capacity = capacity
        self._cache: dict[tuple[str, str, str], Fragment] = {}
        self._lock = threading.Lock()

    def load(self, name: str, tag: str, name_token: Token | None, parent_name: str) -> Fragment:
        """The fragment called ``name``, raising python-liquid's errors when it cannot load."""
        try:
            try:
                return self._load(name, tag)
            except LiquidError as err:  # Environment.get_template
                if not err.template_name:
                    err.template_name = name
                raise
        except TemplateNotFoundError as err:  # the render and include tags
            err.token = name_token
            err.template_name = parent_name
            raise

    def _load(self, name: str, tag: str) -> Fragment:
        env = self._env
        text, full_name, _uptodate, matter = env.loader.get_source(env, name, tag=tag)
        key = (name, text, full_name)
        fragment = self._cache.get(key)
        if fragment is None:
            path = Path(full_name)
            template = env.from_string(
                text, name=path.name, path=path, globals=env.make_globals(None), matter=matter
            )
            fragment = Fragment(template, self._compile)
            with self._lock:
                if len(self._cache) >= self._capacity:
                    self._cache.clear()
                self._cache[key] = fragment
        return fragment
