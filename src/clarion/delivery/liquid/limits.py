"""Resource limits for rendering and the python-liquid environment that enforces them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from liquid import DictLoader, Environment, Undefined

__all__ = ["RenderLimits", "build_environment"]


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """Limits on what one render may consume; ``None`` disables a limit.

    The defaults are generous for any real message and stop runaway templates:

    - ``loop_iterations``: the product of the lengths of nested loops (python-liquid's
      ``loop_iteration_limit``), including loops in rendered fragments.
    - ``output_bytes``: UTF-8 bytes written to one output buffer (``output_stream_limit``).
    - ``context_depth``: nesting of ``include``/``render`` and loops
      (``context_depth_limit``; it bounds recursive fragments).
    - ``local_namespace_bytes``: ``sys.getsizeof`` total of assigned variables
      (``local_namespace_limit``; it stops ``assign`` doubling a string in a loop).
    """

    loop_iterations: int | None = 10_000
    output_bytes: int | None = 1_000_000
    context_depth: int = 30
    local_namespace_bytes: int | None = 1_000_000


def build_environment(
    *,
    limits: RenderLimits,
    undefined: type[Undefined],
    autoescape: bool,
    fragments: Mapping[str, str],
) -> Environment:
    """Return a strict python-liquid environment enforcing ``limits``.

    Limits are class attributes in python-liquid, so each configuration gets its own
    subclass of ``Environment``.
    """
    environment_class = type(
        "LimitedEnvironment",
        (Environment,),
        {
            "loop_iteration_limit": limits.loop_iterations,
            "output_stream_limit": limits.output_bytes,
            "context_depth_limit": limits.context_depth,
            "local_namespace_limit": limits.local_namespace_bytes,
        },
    )
    loader = DictLoader(fragments)  # type: ignore[arg-type]  # any mapping works
    env: Environment = environment_class(loader=loader, undefined=undefined, autoescape=autoescape)
    return env
