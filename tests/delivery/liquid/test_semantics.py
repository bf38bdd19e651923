# ruff: noqa: E501  (templates are data, kept on one line each)
"""Corners of Liquid semantics where a compiler could drift from python-liquid.

Every case renders with both renderers under several configurations and must agree
character for character (output, or error type and message). A few also pin the
expected output, so that agreement is not agreement on something broken.
"""

from __future__ import annotations

import pytest
from liquid import DebugUndefined

from clarion.delivery.liquid import LiquidEngine, RenderLimits, StrictUndefined
from tests.delivery.liquid.differential import assert_same

FRAGMENTS = {
    "footer": "Bye {{ name }}{% for x in xs %}[{{x}}]{% endfor %}{{ partial }}",
    "item": "<{{ item.n }}|{{ forloop.index }}|{{ forloop.parentloop.index }}|{{ x }}>",
    "brk": "{% if x == 2 %}{% break %}{% endif %}({{ x }})",
    "rec": "{{ n }}{% assign n = n | minus: 1 %}{% if n > 0 %}{% include 'rec' %}{% endif %}",
    "rrec": "{{ n }}{% if n > 0 %}{% render 'rrec', n: n | minus: 1 %}{% endif %}",
    "inf": "{% include 'inf' %}",
    "rinf": "x{% render 'rinf' %}",
    "setter": "{% assign shared = 'set by fragment' %}{% increment c %}",
    "bad": "{% if %}",
    "incl_in_render": "{% include 'footer' %}",
    "cyc": "{% cycle 'a','b' %}",
    "strict": "{{ missing.thing }}",
    "loop": "{% for y in (1..3) %}{{ y }}{% endfor %}",
    "emails/product.liquid": "[{{ product.t }}]",
    "w": "{{ w }}-{{ k }}",
    "capt": "{% capture c %}{{ x }}{% endcapture %}{{ c }}",
    "cont": "{% for y in (1..5) offset: continue %}{{ y }}{% endfor %}",
}

ENGINES = {
    "default": LiquidEngine(fragments=FRAGMENTS),
    "strict": LiquidEngine(fragments=FRAGMENTS, undefined=StrictUndefined),
    "debug": LiquidEngine(fragments=FRAGMENTS, undefined=DebugUndefined),
    "autoescape": LiquidEngine(fragments=FRAGMENTS, autoescape=True),
    "no-limits": LiquidEngine(fragments=FRAGMENTS, limits=RenderLimits(None, None, 30, None)),
    "tight-limits": LiquidEngine(fragments=FRAGMENTS, limits=RenderLimits(5, 40, 6, 200)),
}

CASES: list[tuple[str, dict[str, object]]] = [
    # paths and get_item
    ("{{ a }}", {"a": 1}),
    ("{{ a.b.c }}", {"a": {"b": {}}}),
    ("{{ a[0] }}{{ a[-1] }}{{ a.size }}{{ a.first }}{{ a.last }}", {"a": [1, 2, 3]}),
    ("{{ a[0] }}|{{ a[5] }}|{{ a.first }}", {"a": []}),
    ("{{ a[0] }}", {"a": "str"}),
    ("{{ a.size }}{{ a.first }}", {"a": "str"}),
    ("{{ a.size }}{{ a.first }}", {"a": {"size": 5, "first": 9}}),
    ("{{ a.first }}", {"a": {"x": 5}}),
    ("{{ a[b] }}", {"a": {"x": 5}, "b": "x"}),
    ("{{ a[b.c] }}{{ a[b.d] }}", {"a": {"x": 5}, "b": {"c": "x"}}),
    ("{{ [b] }}{{ [c] }}", {"b": "x", "x": 7, "c": 3}),
    ("{{ a.b.c.d }}", {"a": {"b": None}}),
    ("{{ a['b c'] }}{{ a[\"b\"] }}", {"a": {"b c": 1, "b": 2}}),
    # conditions
    ("{% if a == 1 %}y{% elsif a == 2 %}z{% else %}n{% endif %}", {"a": 2}),
    ("{% if a and b or c %}y{% endif %}", {"a": 1, "b": None, "c": True}),
    ("{% if a > 1 %}y{% endif %}", {"a": "x"}),
    ("{% if a < b %}y{% endif %}{% if b >= a %}z{% endif %}", {"a": 1, "b": 2.5}),
    ("{% if a > b %}y{% endif %}", {"a": True, "b": 0}),
    ("{% if a contains 'x' %}y{% endif %}{% if l contains 2 %}z{% endif %}", {"a": "xy", "l": [2]}),
    (
        "{% if h contains 'k' %}y{% endif %}{% if n contains 1 %}z{% endif %}",
        {"h": {"k": 1}, "n": 5},
    ),
    ("{% unless a %}y{% elsif b %}z{% else %}w{% endunless %}", {"a": True, "b": False}),
    (
        "{% if a == empty %}e{% endif %}{% if b == blank %}b{% endif %}{% if c == nil %}n{% endif %}",
        {"a": [], "b": " ", "c": None},
    ),
    (
        "{% if x == true %}t{% endif %}{% if y == 1 %}o{% endif %}{% if z == 0 %}f{% endif %}",
        {"x": True, "y": True, "z": False},
    ),
    ("{% if missing == nil %}n{% endif %}{% if missing != empty %}e{% endif %}", {}),
    ("{% if 1.0 == 1 %}y{% endif %}{% if 'a' == 'a' %}z{% endif %}", {}),
    # case
    ("{% case a %}{% when 1, 2 %}one-two{% when 2 %}two{% else %}other{% endcase %}", {"a": 2}),
    ("{% case a %}{% when 1 %}{% assign a = 2 %}x{% when 2 %}two{% endcase %}", {"a": 1}),
    ("{% case a %}{% when 1, 1 %}twice{% else %}no{% else %}again{% endcase %}", {"a": 1}),
    ("{% case a %}{% else %}first-else{% when 1 %}one{% endcase %}", {"a": 1}),
    (
        "{% for x in (1..3) %}{% case x %}{% when 2, 3 %}{% break %}{% endcase %}{{ x }}{% endfor %}",
        {},
    ),
    # loops
    (
        "{% for x in a %}{{ forloop.index }}{{ forloop.index0 }}{{ forloop.first }}{{ forloop.last }}{{ forloop.rindex }}{{ forloop.rindex0 }}{{ forloop.length }}{{ forloop.name }}{{ forloop.size }}{% endfor %}",
        {"a": [1, 2, 3]},
    ),
    (
        "{% for x in a limit: 2 offset: 1 %}{{x}}{% endfor %}|{% for x in a offset: continue %}{{x}}{% endfor %}",
        {"a": [1, 2, 3, 4, 5]},
    ),
    (
        "{% for x in a limit: n %}{{x}}{% endfor %}{% for x in a offset: '2' %}{{x}}{% endfor %}",
        {"a": [1, 2, 3], "n": "2"},
    ),
    ("{% for x in a reversed %}{{x}}{% else %}empty{% endfor %}", {"a": []}),
    ("{% for x in a reversed limit: 2 %}{{x}}{% endfor %}", {"a": [1, 2, 3]}),
    (
        "{% for x in (1..5) %}{% if x == 3 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{x}}{% endfor %}",
        {},
    ),
    ("{% for x in h %}{{ x[0] }}={{ x[1] }};{% endfor %}", {"h": {"a": 1, "b": 2}}),
    (
        "{% for x in a %}{% for y in x %}{{ forloop.parentloop.index }}.{{ forloop.index }} {% endfor %}{% endfor %}",
        {"a": [[1, 2], [3]]},
    ),
    ("{% for x in a %}{{ x }}{% endfor %}", {"a": "abc"}),
    (
        "{% for x in a %}{{ x }}{% endfor %}|{% for x in b %}{{ x }}{% endfor %}",
        {"a": 5, "b": None},
    ),
    ("{% for x in a limit: 'b' %}{{ x }}{% endfor %}", {"a": [1]}),
    ("{% for forloop in a %}{{ forloop }}{% endfor %}", {"a": [1, 2]}),
    ("{% for x in a %}{% assign x = 9 %}{{ x }}{% endfor %}{{ x }}", {"a": [1, 2]}),
    (
        "{% for x in a %}{% assign f = forloop %}{% endfor %}{{ f.index }}{{ f.last }}",
        {"a": [1, 2]},
    ),
    (
        "{% for x in a %}{% if x == 2 %}{% assign f = forloop %}{% break %}{% endif %}{% endfor %}{{ f.index }}",
        {"a": [1, 2, 3]},
    ),
    (
        "{% for x in (a..b) %}{{ x }}{% endfor %}{% for x in (3..1) %}{{ x }}{% endfor %}",
        {"a": "2", "b": 4.7},
    ),
    ("{{ forloop }}{{ forloop.index }}", {}),
    (
        "{% tablerow x in a cols:2 %}{{ x }}{{ tablerowloop.col }}{{ tablerowloop.row }}{% endtablerow %}",
        {"a": [1, 2, 3]},
    ),
    (
        "{% tablerow x in a cols:2 %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endtablerow %}",
        {"a": [1, 2, 3]},
    ),
    (
        "{% tablerow x in a %}{% continue %}{{ x }}{% endtablerow %}{% tablerow x in b %}{% endtablerow %}",
        {"a": [1, 2], "b": []},
    ),
    ("{% tablerow x in a cols: c %}{{ x }}{% endtablerow %}", {"a": [1, 2], "c": None}),
    (
        "{% for y in (1..2) %}{% tablerow x in a %}{% break %}{% endtablerow %}{{ y }}{% endfor %}",
        {"a": [1, 2]},
    ),
    # variables and state
    ("{% capture c %}  {{ a }}  {% endcapture %}[{{ c }}]", {"a": 1}),
    (
        "{% capture c %}   {% endcapture %}[{{ c }}]{% capture d %}{% if true %} {% endif %}{% endcapture %}[{{ d }}]",
        {},
    ),
    ("{% assign x = a | plus: 1 %}{{ x }}{% assign a = 'shadow' %}{{ a }}", {"a": 1}),
    ("{% increment x %}{% increment x %}{% decrement y %}{{ x }}{{ y }}", {}),
    ("{% assign x = 5 %}{% increment x %}{{ x }}", {}),
    (
        "{% cycle 'a', 'b' %}{% cycle 'a', 'b' %}{% cycle 'a', 'b' %}{% cycle g: 'a', 'b' %}{% cycle g: 'a', 'b' %}",
        {},
    ),
    ("{% for i in (1..3) %}{% cycle 'x': i, 'b' %}{% cycle missing: 1, 2 %}{% endfor %}", {}),
    (
        "{% for x in (1..4) %}{% ifchanged %}{{ x | divided_by: 2 }}{% endifchanged %}{% endfor %}",
        {},
    ),
    ("{% liquid\nassign x = 1\nif x == 1\necho 'one'\nendif\n%}", {}),
    (
        "{% raw %}{{ x }}{% endraw %}{% comment %}hi{% endcomment %}{% # inline %}{% doc %}d{% enddoc %}",
        {},
    ),
    ("{{ partial }}{% assign partial = 1 %}{{ partial }}", {}),
    ("{{ now | date: '%Y' | size }}{{ today | size }}", {}),
    # filters
    ("{{ x | nosuch }}", {}),
    ("{{ x | upcase: 1 }}", {"x": "a"}),
    ("{{ x | plus: 'a' }}{{ x | divided_by: 0 }}", {"x": 1}),
    ("{{ x | default: 'd', allow_false: true }}{{ y | default: 'd' }}", {"x": False, "y": 0}),
    ("{{ x | date: '%Y' }}{{ x | date: fmt }}", {"x": "2020-01-01"}),
    (
        "{{ a | join: ', ' }} {{ a | sort: 'n' | first }} {{ a | map: 'n' }} {{ a | where: 'n', 1 | size }}",
        {"a": [{"n": 2}, {"n": 1}]},
    ),
    ("{{ a | sort }}", {"a": [1, "b"]}),
    (
        "{{ 'x' | append: y }}{{ nil }}{{ empty }}{{ true }}{{ 1.5 }}{{ (1..3) }}{{ a }}",
        {"y": None, "a": [1, [2, None]]},
    ),
    (
        "{{ a | slice: 1, 2 }}{{ s | slice: -3 }}{{ s | truncate: 4, '' }}",
        {"a": [1, 2, 3], "s": "hello"},
    ),
    ("{{ '<p>x</p>' | escape }}{{ s }}{{ s | escape_once }}", {"s": "<b>&amp;"}),
    # whitespace control and blank blocks
    ("  {% if true %}  {% endif %}  ", {}),
    (
        "{% if a %}x{% elsif b %}  {% endif %}|{% if a %}  {% else %}x{% endif %}",
        {"a": False, "b": True},
    ),
    ("{% for x in (1..2) %}  {% assign y = x %}  {% endfor %}[{{ y }}]", {}),
    ("a  {%- if true -%}  b  {%- endif -%}  c {{- 'd' -}} e", {}),
    ("{% unless false %}   {% endunless %}{% case 1 %}{% when 1 %}  {% endcase %}!", {}),
    # break and continue outside loops, and interrupts from fragments
    ("{% break %}", {}),
    ("a{% if true %}{% continue %}{% endif %}", {}),
    ("{% for x in (1..3) %}{% include 'brk' %}{% endfor %}", {}),
    ("{% for x in (1..3) %}{% render 'brk' %}{% endfor %}", {}),
    ("{% for x in (1..3) %}{% render 'brk', x: x %}{% endfor %}", {}),
    # fragments
    ("{% render 'footer', name: 'a', xs: list %}", {"list": [1, 2]}),
    (
        "{% for x in list %}{% render 'item' for list as item %}{% endfor %}",
        {"list": [{"n": 1}, {"n": 2}]},
    ),
    (
        "{% for x in list %}{% include 'item' with x as item %}{% endfor %}",
        {"list": [{"n": 1}, {"n": 2}]},
    ),
    (
        "{% for z in (1..2) %}{% for x in list %}{% include 'item' with x as item %}{% endfor %}{% endfor %}",
        {"list": [{"n": 1}]},
    ),
    ("{% assign n = 3 %}{% include 'rec' %}", {}),
    ("{% render 'rrec', n: 3 %}", {}),
    ("{% include 'inf' %}", {}),
    ("{% render 'rinf' %}", {}),
    ("{% include 'setter' %}{{ shared }}{{ c }}{% increment c %}", {}),
    ("{% render 'setter' %}{{ shared }}{{ c }}", {}),
    ("{% include 'missing' %}", {}),
    ("{% render 'missing' %}", {}),
    ("{% include 'bad' %}", {}),
    ("{% render 'bad' %}", {}),
    ("{% render 'incl_in_render' %}", {}),
    ("{% include name %}{% include name %}", {"name": "cyc"}),
    ("{% cycle 'a','b' %}{% include 'cyc' %}{% render 'cyc' %}", {}),
    ("{% render 'strict' %}", {}),
    (
        "{% render 'emails/product.liquid' with p as product %}{% render 'emails/product.liquid' with p %}",
        {"p": {"t": "x"}},
    ),
    ("{% include 'w' with 'v', k: 1 %}{% include 'w' with k, k: 2 %}", {}),
    ("{% include 'w' for arr as w %}{% include 'w' with arr as w %}", {"arr": [1, 2]}),
    (
        "{% render 'w' for arr as w, k: 3 %}{% render 'w' with arr as w %}{% render 'w' for s as w %}",
        {"arr": [1, 2], "s": "str"},
    ),
    ("{% for a in (1..2) %}{% render 'loop' %}{% endfor %}", {}),
    ("{% capture x %}{% include 'footer' %}{% endcapture %}{{ x | size }}", {}),
    ("{% render x %}{% render missing %}", {"x": 1}),
    ("{% assign x = 'q' %}{% include 'capt' %}{{ c }}", {}),
    ("{% for y in (1..2) %}{{ y }}{% endfor %}{% include 'cont' %}", {}),
    ("{% for y in (1..5) limit: 2 %}{{ y }}{% endfor %}{% include 'cont' %}", {}),
]


@pytest.mark.parametrize("config", sorted(ENGINES))
@pytest.mark.parametrize(("source", "data"), CASES)
def test_renders_like_python_liquid(source: str, data: dict[str, object], config: str) -> None:
    assert_same(ENGINES[config], source, data)


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        (
            "{% case a %}{% when 1 %}{% assign a = 2 %}x{% when 2 %}two{% endcase %}",
            {"a": 1},
            "xtwo",
        ),
        ("{% case a %}{% when 1, 1 %}twice{% endcase %}", {"a": 1}, "twicetwice"),
        ("{% for x in (1..3) %}{% include 'brk' %}{% endfor %}", {}, "(1)"),
        ("{% capture c %}   {% endcapture %}[{{ c }}]", {}, "[]"),
        ("{{ partial }}{% assign partial = 1 %}{{ partial }}", {}, "falsefalse"),
        ("{% for x in a %}{% assign x = 9 %}{{ x }}{% endfor %}{{ x }}", {"a": [1, 2]}, "129"),
        (
            "{% if a %}x{% elsif b %}  {% endif %}|{% if a %}  {% else %}x{% endif %}",
            {"a": False, "b": True},
            "|x",
        ),
        ("{% include 'setter' %}{{ shared }}{{ c }}", {}, "0set by fragment1"),
    ],
)
def test_known_outputs(source: str, data: dict[str, object], expected: str) -> None:
    outcome = assert_same(ENGINES["default"], source, data)

    assert outcome.output == expected


@pytest.mark.parametrize(
    "source",
    [
        "{% render 'strict' %}",
        "line one\n{{ 1 | divided_by: 0 }}",
        "{% for x in (1..3) %}\n{% break %}{% endfor %}{% continue %}",
        "{% render x %}",
    ],
)
@pytest.mark.parametrize("config", ["default", "strict"])
def test_named_templates_render_like_python_liquid(source: str, config: str) -> None:
    assert_same(ENGINES[config], source, {}, name="cart-reminder")


@pytest.mark.parametrize("tag", ["render", "include"])
def test_missing_fragment_errors_name_the_template(tag: str) -> None:
    source = f"Hello\n  {{% {tag} 'missing' %}}"

    outcome = assert_same(ENGINES["default"], source, {}, name="cart-reminder")

    assert outcome.error_type == "TemplateNotFoundError"
    assert outcome.error_message is not None
    assert "-> cart-reminder:2:" in outcome.error_message
