"""Counters of how templates were rendered: compiled code or python-liquid's fallback."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["RenderMetrics"]


@dataclass
class RenderMetrics:
    """Counts compiled and fallback templates and renders of one engine.

    ``fallback_reasons`` counts, per reason, templates that could not be compiled and
    renders that had to be redone with python-liquid. Safe to update from threads.
    """

    compiled_templates: int = 0
    fallback_templates: int = 0
    compiled_renders: int = 0
    fallback_renders: int = 0
    fallback_reasons: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def template_compiled(self) -> None:
        """Record a template translated to Python."""
        with self._lock:
            self.compiled_templates += 1

    def template_fell_back(self, reason: str) -> None:
        """Record a template that renders with python-liquid, and why."""
        with self._lock:
            self.fallback_templates += 1
            self.fallback_reasons[reason] += 1

    def render_compiled(self) -> None:
        """Record a render done by compiled code."""
        with self._lock:
            self.compiled_renders += 1

    def render_fell_back(self, reason: str | None = None) -> None:
        """Record a render done by python-liquid (``reason`` when it is new information)."""
        with self._lock:
            self.fallback_renders += 1
            if reason is not None:
                self.fallback_reasons[reason] += 1

    def snapshot(self) -> dict[str, object]:
        """A plain copy of the counters, for logs and a metrics endpoint."""
        with self._lock:
            return {
                "compiled_templates": self.compiled_templates,
                "fallback_templates": self.fallback_templates,
                "compiled_renders": self.compiled_renders,
                "fallback_renders": self.fallback_renders,
                "fallback_reasons": dict(self.fallback_reasons),
            }
