"""Render with the compiled engine and with python-liquid, and compare the outcomes."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from clarion.delivery.liquid import LiquidEngine

NESTING_LIMIT = "too many statically nested blocks"

_ADDRESS = re.compile(r"0x[0-9a-f]{6,}", re.IGNORECASE)


def _without_addresses(text: str | None) -> str | None:
    """Object reprs (``<... object at 0x7f...>``) differ between any two parses."""
    return None if text is None else _ADDRESS.sub("0xADDRESS", text)


@dataclass(frozen=True)
class Outcome:
    """What a render produced: its output, or the type and message of its error."""

    output: str | None = None
    error_type: str | None = None
    error_message: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", _without_addresses(self.output))
        object.__setattr__(self, "error_message", _without_addresses(self.error_message))

    def describe(self) -> str:
        if self.error_type is None:
            return f"output {self.output!r}"
        return f"{self.error_type}: {self.error_message}"


def reference_outcome(
    engine: LiquidEngine, source: str, data: Mapping[str, object], name: str = ""
) -> Outcome:
    """python-liquid's own render of ``source`` in the engine's environment."""
    try:
        template = engine.env.from_string(source, name=name)
        return Outcome(output=template.render(copy.deepcopy(dict(data))))
    except Exception as exc:
        return Outcome(error_type=type(exc).__name__, error_message=str(exc))


def compiled_outcome(
    engine: LiquidEngine,
    source: str,
    data: Mapping[str, object],
    *,
    require_compiled: bool,
    name: str = "",
) -> Outcome:
    """The compiled engine's render of ``source``.

    With ``require_compiled``, the render must run compiled code, except for templates
    nested deeper than Python's 20 statically nested blocks, which fall back by design.
    """
    reasons_before = Counter(engine.metrics.fallback_reasons)
    try:
        template = engine.compile(source, name=name)
    except Exception as exc:
        return Outcome(error_type=type(exc).__name__, error_message=str(exc))
    try:
        outcome = Outcome(output=template.render(copy.deepcopy(dict(data))))
    except Exception as exc:
        outcome = Outcome(error_type=type(exc).__name__, error_message=str(exc))
    if require_compiled:
        new_reasons = engine.metrics.fallback_reasons - reasons_before
        assert all(NESTING_LIMIT in reason for reason in new_reasons), f"fell back: {new_reasons}"
        if not template.is_compiled:
            assert new_reasons, "fell back without a recorded reason"
    return outcome


def assert_same(
    engine: LiquidEngine,
    source: str,
    data: Mapping[str, object] | None = None,
    *,
    require_compiled: bool = True,
    name: str = "",
) -> Outcome:
    """Assert both renderers agree, character for character; returns the outcome."""
    data = data or {}
    expected = reference_outcome(engine, source, data, name)
    actual = compiled_outcome(engine, source, data, require_compiled=require_compiled, name=name)
    assert actual == expected, (
        f"template {source!r}\ndata {data!r}\n"
        f"python-liquid: {expected.describe()}\ncompiled:      {actual.describe()}"
    )
    return expected
