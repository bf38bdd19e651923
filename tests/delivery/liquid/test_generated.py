"""Templates generated from the Liquid grammar, with random data: compiled == python-liquid."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from liquid import DebugUndefined

from clarion.delivery.liquid import LiquidEngine, RenderLimits, StrictUndefined
from tests.delivery.liquid.differential import assert_same
from tests.delivery.liquid.grammar import CONTEXTS, FRAGMENTS, TEMPLATES

ENGINES = {
    "default": LiquidEngine(fragments=FRAGMENTS),
    "strict": LiquidEngine(fragments=FRAGMENTS, undefined=StrictUndefined),
    "debug": LiquidEngine(fragments=FRAGMENTS, undefined=DebugUndefined),
    "autoescape": LiquidEngine(fragments=FRAGMENTS, autoescape=True),
    "tight-limits": LiquidEngine(
        fragments=FRAGMENTS,
        limits=RenderLimits(
            loop_iterations=6, output_bytes=120, context_depth=7, local_namespace_bytes=300
        ),
    ),
    "no-limits": LiquidEngine(
        fragments=FRAGMENTS,
        limits=RenderLimits(
            loop_iterations=None, output_bytes=None, context_depth=30, local_namespace_bytes=None
        ),
    ),
}

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    # The explain phase prints strategy reprs, which are huge for a grammar.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("config", sorted(ENGINES))
@FAST
@given(source=TEMPLATES, data=CONTEXTS)
def test_generated_templates_render_like_python_liquid(
    config: str, source: str, data: dict[str, object]
) -> None:
    assert_same(ENGINES[config], source, data)


@pytest.mark.slow
@settings(FAST, max_examples=3000)
@given(config=st.sampled_from(sorted(ENGINES)), source=TEMPLATES, data=CONTEXTS)
def test_many_generated_templates_render_like_python_liquid(
    config: str, source: str, data: dict[str, object]
) -> None:
    assert_same(ENGINES[config], source, data)
