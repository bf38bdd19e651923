"""The corpus of message templates renders identically, compiled and with python-liquid."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from clarion.delivery.liquid import LiquidEngine, RenderLimits, StrictUndefined
from tests.delivery.liquid.corpus import FRAGMENTS, TEMPLATES
from tests.delivery.liquid.differential import assert_same

Data = dict[str, object]


def _map_leaves(value: object, leaf: Callable[[object], object]) -> object:
    if isinstance(value, dict):
        return {k: _map_leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_leaves(v, leaf) for v in value]
    return leaf(value)


def _drop_every_other_key(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_every_other_key(v) for i, (k, v) in enumerate(value.items()) if i % 2}
    if isinstance(value, list):
        return [_drop_every_other_key(v) for v in value]
    return value


def _numbers_as_strings(value: object) -> object:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return str(value) if is_number else value


VARIANTS: dict[str, Callable[[Data], object]] = {
    "full": copy.deepcopy,
    "empty": lambda data: {},
    "nulls": lambda data: _map_leaves(data, lambda _: None),
    "missing-keys": _drop_every_other_key,
    "numbers-as-strings": lambda data: _map_leaves(data, _numbers_as_strings),
    "lists-emptied": lambda data: _map_leaves(
        {k: ([] if isinstance(v, list) else v) for k, v in data.items()}, lambda v: v
    ),
}

ENGINES = {
    "default": LiquidEngine(fragments=FRAGMENTS),
    "strict": LiquidEngine(fragments=FRAGMENTS, undefined=StrictUndefined),
    "autoescape": LiquidEngine(fragments=FRAGMENTS, autoescape=True),
    "tight-limits": LiquidEngine(
        fragments=FRAGMENTS,
        limits=RenderLimits(
            loop_iterations=8, output_bytes=900, context_depth=8, local_namespace_bytes=400
        ),
    ),
}


@pytest.mark.parametrize("config", sorted(ENGINES))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_corpus_template_renders_like_python_liquid(name: str, variant: str, config: str) -> None:
    source, data = TEMPLATES[name]

    assert_same(ENGINES[config], source, VARIANTS[variant](data))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_corpus_template_renders_its_full_data_without_error(name: str) -> None:
    source, data = TEMPLATES[name]

    outcome = assert_same(ENGINES["default"], source, data)

    assert outcome.error_type is None, outcome.describe()
    assert outcome.output
