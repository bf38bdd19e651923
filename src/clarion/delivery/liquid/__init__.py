"""Liquid templates compiled to Python, rendering exactly as python-liquid does.

``LiquidEngine(fragments=..., limits=...)`` parses templates with python-liquid, compiles
each once to a Python function, and renders with it; the output, or the error raised,
is python-liquid's, character for character. Templates using something the compiler
does not translate render with python-liquid itself, counted in ``engine.metrics``.
"""

from __future__ import annotations

from liquid import StrictUndefined, Undefined
from liquid.exceptions import LiquidError, LiquidSyntaxError, ResourceLimitError, UndefinedError

from clarion.delivery.liquid.engine import CompiledTemplate, LiquidEngine
from clarion.delivery.liquid.limits import RenderLimits
from clarion.delivery.liquid.metrics import RenderMetrics

__all__ = [
    "CompiledTemplate",
    "LiquidEngine",
    "LiquidError",
    "LiquidSyntaxError",
    "RenderLimits",
    "RenderMetrics",
    "ResourceLimitError",
    "StrictUndefined",
    "Undefined",
    "UndefinedError",
]
