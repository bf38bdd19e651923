# ruff: noqa: E501  (payloads are data, kept on one line each)
"""The sandbox holds: no Python internals, no method calls, no code injection, limits enforced.

Payloads are the usual template-injection probes (Jinja2/SSTI style attribute chains,
dunder lookups, method references) plus attempts to break out of the generated Python
source through names and strings. Each renders exactly as python-liquid renders it,
and the tests also check what the sandbox promises: nothing leaks and nothing runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from liquid.exceptions import (
    ContextDepthError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
    ResourceLimitError,
)

from clarion.delivery.liquid import LiquidEngine, RenderLimits, StrictUndefined
from clarion.delivery.liquid.codegen.prelude import runtime_namespace
from tests.delivery.liquid.differential import assert_same

LEAK_MARKERS = (
    "<class",
    "<function",
    "<bound method",
    "<built-in",
    "<module",
    "mappingproxy",
    "object at",
    "s3cr3t",
    "deleted",
)


class Secretive:
    """A context object with attributes and methods a template must not reach."""

    secret = "s3cr3t"

    def __init__(self) -> None:
        self.calls = 0

    def delete_everything(self) -> str:
        self.calls += 1
        return "deleted"


ATTRIBUTE_PAYLOADS = [
    "{{ user.__class__ }}",
    "{{ user.__class__.__mro__ }}",
    "{{ user['__class__'] }}",
    "{{ user.__dict__ }}",
    "{{ user.__init__.__globals__ }}",
    "{{ user.keys }}{{ user.items }}{{ user.values }}{{ user.get }}",
    "{{ name.upper }}{{ name.__len__ }}{{ name.format }}",
    "{{ items.__len__ }}{{ items.pop }}{{ items.append }}",
    "{{ forloop.__class__ }}{% for i in items %}{{ forloop.it }}{{ forloop._index }}{{ forloop.__dict__ }}{% endfor %}",
    "{% tablerow i in items %}{{ tablerowloop.it }}{{ tablerowloop.__class__ }}{% endtablerow %}",
    "{{ obj.secret }}{{ obj.delete_everything }}{{ obj['delete_everything'] }}",
    "{% assign g = user.__init__.__globals__ %}{{ g.os }}{{ g['__builtins__'] }}",
    "{{ cycler.__init__.__globals__.os }}{{ lipsum.__globals__ }}{{ self }}{{ config }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ ''.__class__ }}{{ '' | append: name.__class__ }}",
    "{% for c in user.__class__.__subclasses__ %}{{ c }}{% endfor %}",
    "{{ user | map: '__class__' }}{{ items | map: '__class__' | join }}",
    "{{ items | where: '__class__' | size }}{{ items | sort: '__class__' | size }}",
]

SYNTAX_PAYLOADS = [
    "{{ 7*7 }}",
    "{{ user.keys() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% import os %}",
    "{{ config.items() }}",
    "{% set x = 1 %}",
]


@pytest.fixture
def data() -> dict[str, object]:
    return {
        "user": {"name": "ada"},
        "name": "ada",
        "items": [{"a": 1}, {"a": 2}],
        "obj": Secretive(),
    }


@pytest.mark.parametrize("undefined", ["default", "strict"])
@pytest.mark.parametrize("payload", ATTRIBUTE_PAYLOADS)
def test_python_internals_are_out_of_reach(
    payload: str, undefined: str, data: dict[str, object]
) -> None:
    engine = LiquidEngine() if undefined == "default" else LiquidEngine(undefined=StrictUndefined)

    outcome = assert_same(engine, payload, data)

    if outcome.output is not None:
        assert not any(marker in outcome.output for marker in LEAK_MARKERS), outcome.output
    else:
        assert outcome.error_type in ("UndefinedError", "LiquidSyntaxError")
    obj = data["obj"]
    assert isinstance(obj, Secretive)
    assert obj.calls == 0


@pytest.mark.parametrize("payload", SYNTAX_PAYLOADS)
def test_call_and_expression_syntax_is_rejected(payload: str, data: dict[str, object]) -> None:
    outcome = assert_same(LiquidEngine(), payload, data)

    assert outcome.output is None or "49" not in outcome.output
    assert outcome.error_type in (None, "LiquidSyntaxError")


def test_callables_in_data_are_never_called(data: dict[str, object]) -> None:
    calls: list[str] = []
    data["hook"] = lambda *args: calls.append("called")

    assert_same(
        LiquidEngine(),
        "{{ hook }}{{ hook.x }}{% if hook %}t{% endif %}{{ hook | size }}{{ hook | default: 1 }}",
        data,
    )

    assert calls == []


GENERATOR_BREAKOUTS = [
    """{{ a["x'] + __import__('os').system('touch {marker}') + ['"] }}""",
    """{{ a['x"] + __import__("os").system("touch {marker}") + ["'] }}""",
    """{{ "'); __import__('os').system('touch {marker}') #" }}""",
    """{{ '\\\\' }}{{ "\\" }}{{ 'a\\nb' }}{{ \"\"\"x\"\"\" }}""",
    """{{ x | append: "'''" | append: '\"\"\"' | replace: "'", "\\\\" }}""",
    """{% assign _L = 'locals' %}{% assign st = 1 %}{% assign buf = 2 %}{{ _L }}{{ st }}{{ buf }}{{ dyn }}{{ _MISSING }}""",
    """{% increment _C %}{% capture __builtins__ %}x{% endcapture %}{{ __builtins__ }}{{ __import__ }}""",
    """{% for é in items %}{{ é.a }}{% endfor %}{% assign ünï = 'ok' %}{{ ünï }}""",
    """{{ x | default: 1, allow_false: true | plus: 1 }}{{ x | nosuch: "'); __import__('os') #" }}""",
    """{% cycle "'); __import__('os').system('touch {marker}') #": 1, 2 %}""",
    """{% render 'frag', k: "'); __import__('os').system('touch {marker}') #" %}""",
    """{% include 'frag' with "') #" as kk %}{{ kk }}""",
]


@pytest.mark.parametrize("payload", GENERATOR_BREAKOUTS)
def test_template_text_cannot_become_python_code(
    payload: str, tmp_path: Path, data: dict[str, object]
) -> None:
    marker = tmp_path / "pwned"
    engine = LiquidEngine(fragments={"frag": "[{{ k }}]"})

    assert_same(engine, payload.replace("{marker}", str(marker)), data)

    assert not marker.exists()


def test_generated_code_gets_no_dangerous_builtins() -> None:
    engine = LiquidEngine()
    builtins = runtime_namespace(engine.env, fragments=None)["__builtins__"]

    assert isinstance(builtins, dict)
    for name in ("__import__", "open", "eval", "exec", "compile", "getattr", "globals"):
        assert name not in builtins


LIMITS = RenderLimits(
    loop_iterations=1_000, output_bytes=5_000, context_depth=10, local_namespace_bytes=10_000
)
LIMIT_PAYLOADS = [
    ("{% for i in (1..1000000000) %}x{% endfor %}", LoopIterationLimitError),
    (
        "{% for i in (1..100) %}{% for j in (1..100) %}{% endfor %}{% endfor %}",
        LoopIterationLimitError,
    ),
    ("{% for i in (1..50) %}{% render 'loop50' %}{% endfor %}", LoopIterationLimitError),
    ("{% tablerow i in (1..5000) %}{% endtablerow %}", LoopIterationLimitError),
    ("{% for i in (1..900) %}{{ 'xxxxxxxxxx' }}{% endfor %}", OutputStreamLimitError),
    (
        "{% capture c %}{% for i in (1..900) %}ééééé{% endfor %}{% endcapture %}",
        OutputStreamLimitError,
    ),
    (
        "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}",
        LocalNamespaceLimitError,
    ),
    ("{% render 'self' %}", ContextDepthError),
    ("{% include 'include_self' %}", ContextDepthError),
    ("{% render 'ping' %}", ContextDepthError),
]


@pytest.mark.parametrize(("payload", "error"), LIMIT_PAYLOADS)
def test_resource_limits_stop_runaway_templates(
    payload: str, error: type[ResourceLimitError]
) -> None:
    fragments = {
        "loop50": "{% for j in (1..50) %}{% endfor %}",
        "self": "x{% render 'self' %}",
        "include_self": "{% include 'include_self' %}",
        "ping": "{% render 'pong' %}",
        "pong": "{% render 'ping' %}",
    }
    engine = LiquidEngine(fragments=fragments, limits=LIMITS)

    outcome = assert_same(engine, payload)

    assert outcome.error_type == error.__name__


def test_default_limits_are_enabled() -> None:
    engine = LiquidEngine()

    outcome = assert_same(
        engine, "{% for i in (1..10) %}{% for j in (1..10000) %}{% endfor %}{% endfor %}"
    )

    assert outcome.error_type == "LoopIterationLimitError"
    assert engine.env.output_stream_limit == RenderLimits().output_bytes
    assert engine.env.local_namespace_limit == RenderLimits().local_namespace_bytes
