"""Errors of the compiled Liquid renderer.

Template errors (syntax errors, undefined variables under ``StrictUndefined``, filter
errors, resource limits) are python-liquid's own exceptions, raised unchanged so that
callers see exactly what python-liquid would raise; catch ``liquid.exceptions.LiquidError``
(re-exported here as ``LiquidError``).

This package adds two internal signals, which never leave ``LiquidEngine``::

    CompiledLiquidError
    ├── UnsupportedConstruct   the compiler does not handle a node or an expression:
    │                          the whole template renders with python-liquid instead
    └── RuntimeFallback        a render met a case the compiled code does not reproduce
                               (for example a fragment that cannot be compiled): that
                               render is redone with python-liquid
"""

from __future__ import annotations

from liquid.exceptions import LiquidError

__all__ = ["CompiledLiquidError", "LiquidError", "RuntimeFallback", "UnsupportedConstruct"]


class CompiledLiquidError(Exception):
    """Base of the compiled renderer's own signals."""


class UnsupportedConstruct(CompiledLiquidError):
    """A template contains a construct the compiler does not translate."""


class RuntimeFallback(CompiledLiquidError):
    """Abandon a compiled render; the engine redoes it with python-liquid."""
