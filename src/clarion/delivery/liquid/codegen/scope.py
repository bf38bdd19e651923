"""Names a template can see without looking them up at run time.

python-liquid pushes a namespace for each ``for`` and ``tablerow`` loop (the loop
variable and ``forloop``/``tablerowloop``) and one holding ``partial`` for each template
it renders. Those namespaces sit in front of assigned variables and render data, and
their contents are known where the template is compiled, so compiled code keeps them in
Python locals and resolves them here, innermost first.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Binding", "LexicalScope", "LoopCounters"]


@dataclass(frozen=True, slots=True)
class LoopCounters:
    """Python locals that track a ``for`` loop, for reading ``forloop.*`` directly."""

    index0: str
    length: str
    name: str


@dataclass(frozen=True, slots=True)
class Binding:
    """A name bound to a Python expression; ``loop`` is set for a ``forloop`` object."""

    expr: str
    loop: LoopCounters | None = None


class LexicalScope:
    """A stack of namespaces whose names compiled code resolves statically."""

    def __init__(self, partial_literal: str) -> None:
        self._frames: list[dict[str, Binding]] = [{"partial": Binding(partial_literal)}]

    def lookup(self, name: str) -> Binding | None:
        """The innermost binding of ``name``, if any."""
        for frame in reversed(self._frames):
            binding = frame.get(name)
            if binding is not None:
                return binding
        return None

    def push(self, frame: dict[str, Binding]) -> None:
        """Enter a namespace."""
        self._frames.append(frame)

    def pop(self) -> None:
        """Leave the innermost namespace."""
        self._frames.pop()

    @property
    def loop_depth(self) -> int:
        """Namespaces pushed in front of the template's own ``partial`` namespace."""
        return len(self._frames) - 1

    def snapshot_code(self) -> str:
        """A dict display of every visible binding, inner bindings winning."""
        items = [
            f"{name!r}: {binding.expr}" for frame in self._frames for name, binding in frame.items()
        ]
        return "{" + ", ".join(items) + "}"
