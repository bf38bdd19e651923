"""Bound parameters: every value of a definition reaches SQL as one, never as text."""

from __future__ import annotations

from typing import Any

from sqlglot import exp


class Params:
    """The parameters of one compiled query, named `p0`, `p1`, ... (and `ws`, `now`)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> exp.Expr:
        """A placeholder bound to `value`."""
        return self.named(f"p{len(self.values)}", value)

    def named(self, name: str, value: Any) -> exp.Expr:
        """A placeholder with a chosen name (the same name always binds the same value)."""
        if name in self.values and self.values[name] != value:
            raise ValueError(f"parameter {name!r} bound twice to different values")
        self.values[name] = value
        return exp.Placeholder(this=name)

    def number(self, value: float) -> exp.Expr:
        """A number of a definition, bound as a double (numbers compare as doubles)."""
        return self.add(float(value))
