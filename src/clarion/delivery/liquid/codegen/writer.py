"""Emit indented Python source and the table of constants it refers to."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CodeWriter"]


class CodeWriter:
    """Lines of Python with their indentation, plus named constants for ``exec``.

    Anything that comes from a template reaches the generated source only as a
    ``repr`` of a ``str`` or as a reference to a constant, never as raw code.
    """

    def __init__(self) -> None:
        self._lines: list[tuple[int, str]] = []
        self._level = 0
        self._names = itertools.count()
        self.constants: dict[str, object] = {}
        self._constant_ids: dict[int, str] = {}

    def line(self, code: str) -> None:
        """Append one statement at the current indentation."""
        self._lines.append((self._level, code))

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        """Append ``header`` (ending in a colon) and indent what is written inside."""
        self.line(header)
        start = len(self._lines)
        self._level += 1
        try:
            yield
        finally:
            if len(self._lines) == start:
                self.line("pass")
            self._level -= 1

    def temp(self, hint: str = "t") -> str:
        """A fresh local variable name."""
        return f"_{hint}{next(self._names)}"

    def const(self, value: object, hint: str = "k") -> str:
        """The name of a module-level constant holding ``value`` (one name per object)."""
        key = id(value)
        name = self._constant_ids.get(key)
        if name is None:
            name = f"_{hint}{next(self._names)}"
            self._constant_ids[key] = name
            self.constants[name] = value
        return name

    def mark(self) -> int:
        """A position in the output, for ``insert_block``."""
        return len(self._lines)

    def wrap_since(self, mark: int, header: str, trailer: list[str]) -> None:
        """Indent the lines written since ``mark`` under ``header``, then add ``trailer``.

        Used when whether a block needs a ``try`` is known only after writing it.
        ``trailer`` lines (``except`` clauses and their bodies, each prefixed with its
        extra indentation in spaces) close the new block.
        """
        body = self._lines[mark:]
        del self._lines[mark:]
        self.line(header)
        if not body:
            self._lines.append((self._level + 1, "pass"))
        self._lines.extend((level + 1, code) for level, code in body)
        for code in trailer:
            stripped = code.lstrip(" ")
            extra = (len(code) - len(stripped)) // 4
            self._lines.append((self._level + extra, stripped))

    def source(self) -> str:
        """The code written so far."""
        return "\n".join("    " * level + code for level, code in self._lines) + "\n"
