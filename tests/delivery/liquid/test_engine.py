"""The engine's public interface: compiling, rendering, fragments, fallback and metrics."""

from __future__ import annotations

import pickle

import pytest
from liquid.exceptions import LiquidSyntaxError, TemplateNotFoundError
from liquid.extra.tags import WithTag

from clarion.delivery.liquid import LiquidEngine, RenderLimits, RenderMetrics

FRAGMENTS = {
    "footer": "<p>{{ brand }} · <a href='{{ url }}'>Unsubscribe</a></p>",
    "with_tag": "{% with greeting: 'Hi' %}{{ greeting }}{% endwith %}",
}


def test_renders_variables_and_filters() -> None:
    engine = LiquidEngine()
    template = engine.compile("Hello {{ profile.first_name | default: 'there' | upcase }}!")

    assert template.is_compiled
    assert template.render({"profile": {"first_name": "ada"}}) == "Hello ADA!"
    assert template.render({}) == "Hello THERE!"


def test_render_accepts_any_mapping_and_no_context() -> None:
    from types import MappingProxyType

    template = LiquidEngine().compile("[{{ a }}]")

    assert template.render(MappingProxyType({"a": 1})) == "[1]"
    assert template.render() == "[]"


def test_fragments_render_from_the_mapping_given() -> None:
    engine = LiquidEngine(fragments=FRAGMENTS)
    template = engine.compile("{% render 'footer', brand: 'Northwind', url: link %}")

    assert template.render({"link": "https://u.example/1"}) == (
        "<p>Northwind · <a href='https://u.example/1'>Unsubscribe</a></p>"
    )
    assert template.fragment_names == frozenset({"footer"})


def test_fragment_changes_are_picked_up() -> None:
    fragments = {"note": "one"}
    template = LiquidEngine(fragments=fragments).compile("{% render 'note' %}")
    assert template.render() == "one"

    fragments["note"] = "two"

    assert template.render() == "two"


def test_missing_fragment_raises_python_liquids_error() -> None:
    template = LiquidEngine().compile("{% render 'nope' %}")

    with pytest.raises(TemplateNotFoundError, match="nope"):
        template.render()


def test_syntax_errors_raise_at_compile_time() -> None:
    with pytest.raises(LiquidSyntaxError, match="unexpected tag 'endfor'"):
        LiquidEngine().compile("{% if x %}{% endfor %}")


def test_compiled_renders_are_counted() -> None:
    metrics = RenderMetrics()
    template = LiquidEngine(metrics=metrics).compile("{{ a }}")

    template.render({"a": 1})
    template.render({"a": 2})

    assert metrics.compiled_templates == 1
    assert metrics.compiled_renders == 2
    assert metrics.fallback_templates == metrics.fallback_renders == 0


def test_unsupported_tag_falls_back_to_python_liquid_and_is_counted() -> None:
    engine = LiquidEngine()
    engine.env.add_tag(WithTag)  # a non-default tag the compiler does not translate

    template = engine.compile("{% with x: 'y' %}[{{ x }}]{% endwith %}")

    assert not template.is_compiled
    assert template.render() == "[y]"
    assert engine.metrics.fallback_templates == 1
    assert engine.metrics.fallback_renders == 1
    assert engine.metrics.snapshot()["fallback_reasons"] == {"node WithNode": 1}


def test_uncompilable_fragment_falls_back_for_that_render() -> None:
    engine = LiquidEngine(fragments=FRAGMENTS)
    engine.env.add_tag(WithTag)
    template = engine.compile("<{% render 'with_tag' %}>")

    assert template.is_compiled
    assert template.render() == "<Hi>"
    assert template.render() == "<Hi>"
    assert engine.metrics.fallback_renders == 2
    assert engine.metrics.fallback_reasons["fragment 'with_tag': node WithNode"] == 2


def test_templates_pickle_for_worker_processes() -> None:
    engine = LiquidEngine(fragments=FRAGMENTS, limits=RenderLimits(output_bytes=10_000))
    template = engine.compile("{% render 'footer', brand: b, url: '#' %}", name="t")

    clone = pickle.loads(pickle.dumps(template))

    assert clone.is_compiled
    assert clone.name == "t"
    assert clone.engine.limits == engine.limits
    assert clone.render({"b": "N"}) == template.render({"b": "N"})
