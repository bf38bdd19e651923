"""Hypothesis strategies for Liquid templates drawn from the grammar, and for render data.

Templates combine every default tag and most filters with whitespace control, and are
not always valid: a syntax error must then be the same error in both renderers. Names
and keys come from small sets so that templates and data meet often.
"""

from __future__ import annotations

from hypothesis import strategies as st

NAMES = ("a", "b", "s", "n", "items", "user", "x", "empty_list", "missing", "forloop", "partial")
KEYS = ("name", "title", "price", "tags", "size", "first", "last", "0", "a", "index")
FRAGMENT_NAMES = ("card", "looping", "breaker", "setter", "nested", "missing_fragment")

FRAGMENTS = {
    "card": "<{{ item.name | default: 'none' }}/{{ forloop.index }}/{{ x }}/{{ partial }}>",
    "looping": "{% for y in items limit: 2 %}{{ y.name }}{% cycle 'o', 'e' %}{% endfor %}",
    "breaker": "{% if x == 2 %}{% break %}{% endif %}({{ x }})",
    "setter": "{% assign a = 'set' %}{% increment n %}{{ b | size }}",
    "nested": "[{% render 'card' for items as item %}]{% include 'setter' %}",
}

_STRINGS = st.sampled_from(["", " ", "a,b", "Ada", "<b>&amp;", "2024-01-02", "x", "3", "1.5"])
_TEXT = st.text(alphabet=" \n\tab<>&\"'é-", max_size=6)
_WS = st.sampled_from(["", "", "-"])
_WS2 = st.tuples(_WS, _WS)
_WS4 = st.tuples(_WS, _WS, _WS, _WS)
_KEY = st.sampled_from(KEYS)

_SEGMENT = st.one_of(
    _KEY.map(lambda k: f"[{k}]" if k.isdigit() else f".{k}"),
    st.integers(-2, 2).map(lambda i: f"[{i}]"),
    _KEY.map(lambda k: f'["{k}"]'),
    st.tuples(st.sampled_from(NAMES), _KEY).map(lambda t: f"[{t[0]}.{t[1]}]"),
    st.sampled_from(NAMES).map(lambda name: f"[{name}]"),
)
PATH = st.tuples(st.sampled_from(NAMES), st.lists(_SEGMENT, max_size=3)).map(
    lambda t: t[0] + "".join(t[1])
)
LITERAL = st.one_of(
    _STRINGS.map(lambda s: f"'{s}'"),
    st.integers(-3, 5).map(str),
    st.sampled_from(["1.5", "-0.5", "true", "false", "nil", "null", "empty", "blank"]),
    st.sampled_from(["(1..3)", "(0..n)", "(n..2)", "(1..a)"]),
)
PRIMITIVE = st.one_of(PATH, PATH, LITERAL)

_FILTER = st.sampled_from(
    [
        "upcase", "downcase", "capitalize", "size", "first", "last", "escape", "strip",
        "url_encode", "sort", "sort_natural", "reverse", "uniq", "compact", "abs", "ceil",
        "floor", "round", "strip_html", "newline_to_br", "sum", "nosuch", "escape_once",
        "append: 'x'", "prepend: a", "default: 'd'", "default: 'd', allow_false: true",
        "join: ', '", "split: ','", "plus: 1", "minus: n", "times: 2", "divided_by: 0",
        "divided_by: 2", "modulo: 2", "at_least: 1", "at_most: 2", "replace: 'a', 'b'",
        "remove: 'a'", "truncate: 3", "truncatewords: 1", "map: 'name'", "where: 'name'",
        "where: 'name', 'x'", "concat: items", "slice: 1, 2", "date: '%Y'", "upcase: 1",
        "round: b", "first: 2", "join", "size: 1", "default: x.name", "append: n | size",
    ]
)  # fmt: skip
EXPRESSION = st.tuples(PRIMITIVE, st.lists(_FILTER, max_size=3)).map(
    lambda t: t[0] + "".join(f" | {f}" for f in t[1])
)

_OPERATOR = st.sampled_from(["==", "!=", "<>", "<", ">", "<=", ">=", "contains"])
_TERM = st.one_of(PRIMITIVE, st.tuples(PRIMITIVE, _OPERATOR, PRIMITIVE).map(" ".join))
CONDITION = st.tuples(
    _TERM, st.lists(st.tuples(st.sampled_from([" and ", " or "]), _TERM), max_size=2)
).map(lambda t: t[0] + "".join(j + x for j, x in t[1]))

_LOOP_ARGS = st.lists(
    st.sampled_from(["limit: 2", "limit: n", "offset: 1", "offset: continue", "reversed"]),
    max_size=2,
    unique=True,
).map(" ".join)


def _tag(ws: tuple[str, str], body: str) -> str:
    return "{%" + ws[0] + " " + body + " " + ws[1] + "%}"


_OUTPUT = st.tuples(_WS2, EXPRESSION).map(
    lambda t: "{{" + t[0][0] + " " + t[1] + " " + t[0][1] + "}}"
)
_ASSIGN = st.tuples(_WS2, st.sampled_from(NAMES[:6]), EXPRESSION).map(
    lambda t: _tag(t[0], f"assign {t[1]} = {t[2]}")
)
_COUNTER = st.tuples(
    _WS2, st.sampled_from(["increment", "decrement"]), st.sampled_from(NAMES[:4])
).map(lambda t: _tag(t[0], f"{t[1]} {t[2]}"))
_CYCLE = st.tuples(
    _WS2, st.sampled_from(["", "'g': ", "a: "]), st.lists(PRIMITIVE, min_size=1, max_size=3)
).map(lambda t: _tag(t[0], "cycle " + t[1] + ", ".join(t[2])))
_ECHO = st.tuples(_WS2, EXPRESSION).map(lambda t: _tag(t[0], f"echo {t[1]}"))
_SIMPLE_TAG = st.tuples(_WS2, st.sampled_from(["break", "continue", "# a comment", "echo"])).map(
    lambda t: _tag(t[0], t[1])
)
_FIXED = st.sampled_from(
    [
        "{% raw %}{{ not rendered }}{% endraw %}",
        "{% comment %}hidden {{ a }}{% endcomment %}",
        "{% liquid\n  assign b = a | size\n  echo b\n  if b > 1\n    echo 'big'\n  endif\n%}",
    ]
)
_RENDER = st.tuples(
    _WS2,
    st.sampled_from(FRAGMENT_NAMES),
    st.sampled_from(["", ", x: a", " with user as item", " for items as item", " for items"]),
).map(lambda t: _tag(t[0], f"render '{t[1]}'{t[2]}"))
_INCLUDE = st.tuples(
    _WS2,
    st.sampled_from([*(f"'{f}'" for f in FRAGMENT_NAMES), "s"]),
    st.sampled_from(["", ", x: 2", " with items as item", " for items as item"]),
).map(lambda t: _tag(t[0], f"include {t[1]}{t[2]}"))

_LIQUID_BODY = st.deferred(lambda: _LIQUID_LINES)
_LIQUID_LINE = st.one_of(
    st.tuples(st.sampled_from(NAMES[:6]), EXPRESSION).map(lambda t: f"assign {t[0]} = {t[1]}"),
    EXPRESSION.map(lambda e: f"echo {e}"),
    st.sampled_from(["increment n", "decrement a", "cycle 'o', 'e'", "# note", "break"]),
    st.sampled_from(["render 'card'", "include 'setter'", "continue", "echo"]),
    st.tuples(CONDITION, _LIQUID_BODY).map(lambda t: f"if {t[0]}\n{t[1]}\nendif"),
    st.tuples(PRIMITIVE, _LOOP_ARGS, _LIQUID_BODY).map(
        lambda t: f"for x in {t[0]} {t[1]}\n{t[2]}\nendfor"
    ),
    st.tuples(PRIMITIVE, PRIMITIVE, _LIQUID_BODY).map(
        lambda t: f"case {t[0]}\nwhen {t[1]}\n{t[2]}\nelse\necho 'other'\nendcase"
    ),
    st.tuples(st.sampled_from(NAMES[:6]), _LIQUID_BODY).map(
        lambda t: f"capture {t[0]}\n{t[1]}\nendcapture"
    ),
)
_LIQUID_LINES = st.lists(_LIQUID_LINE, min_size=1, max_size=3).map("\n".join)
_LIQUID = st.tuples(_WS2, _LIQUID_LINES).map(
    lambda t: "{%" + t[0][0] + " liquid\n" + t[1] + "\n" + t[0][1] + "%}"
)

LEAF = st.one_of(
    _TEXT,
    _OUTPUT,
    _ASSIGN,
    _COUNTER,
    _CYCLE,
    _ECHO,
    _SIMPLE_TAG,
    _FIXED,
    _RENDER,
    _INCLUDE,
    _LIQUID,
)

_BODY = st.deferred(lambda: BODY)
_ELSE = st.one_of(st.none(), _BODY)


def _else(body: str | None) -> str:
    return "" if body is None else "{% else %}" + body


_IF = st.tuples(
    CONDITION, _BODY, st.lists(st.tuples(CONDITION, _BODY), max_size=2), _ELSE, _WS4
).map(
    lambda t: (
        _tag(t[4][:2], f"if {t[0]}")
        + t[1]
        + "".join(f"{{% elsif {c} %}}{b}" for c, b in t[2])
        + _else(t[3])
        + _tag(t[4][2:], "endif")
    )
)
_UNLESS = st.tuples(CONDITION, _BODY, _ELSE, _WS4).map(
    lambda t: _tag(t[3][:2], f"unless {t[0]}") + t[1] + _else(t[2]) + _tag(t[3][2:], "endunless")
)
_WHEN = st.tuples(st.lists(PRIMITIVE, min_size=1, max_size=2), _BODY).map(
    lambda t: "{% when " + ", ".join(t[0]) + " %}" + t[1]
)
_CASE = st.tuples(PRIMITIVE, st.lists(_WHEN, min_size=1, max_size=3), _ELSE, _WS4).map(
    lambda t: (
        _tag(t[3][:2], f"case {t[0]}")
        + "\n"
        + "".join(t[1])
        + _else(t[2])
        + _tag(t[3][2:], "endcase")
    )
)
_FOR = st.tuples(
    st.sampled_from(["x", "item", "forloop"]), PRIMITIVE, _LOOP_ARGS, _BODY, _ELSE, _WS4
).map(
    lambda t: (
        _tag(t[5][:2], f"for {t[0]} in {t[1]} {t[2]}")
        + t[3]
        + _else(t[4])
        + _tag(t[5][2:], "endfor")
    )
)
_TABLEROW = st.tuples(
    st.sampled_from(["x", "item"]),
    PRIMITIVE,
    st.sampled_from(["", "cols: 2", "cols: n", "limit: 2"]),
    _BODY,
    _WS4,
).map(
    lambda t: (
        _tag(t[4][:2], f"tablerow {t[0]} in {t[1]} {t[2]}") + t[3] + _tag(t[4][2:], "endtablerow")
    )
)
_CAPTURE = st.tuples(st.sampled_from(NAMES[:6]), _BODY, _WS4).map(
    lambda t: _tag(t[2][:2], f"capture {t[0]}") + t[1] + _tag(t[2][2:], "endcapture")
)
_IFCHANGED = st.tuples(_BODY, _WS4).map(
    lambda t: _tag(t[1][:2], "ifchanged") + t[0] + _tag(t[1][2:], "endifchanged")
)
BLOCK = st.one_of(_IF, _UNLESS, _CASE, _FOR, _TABLEROW, _CAPTURE, _IFCHANGED)
BODY: st.SearchStrategy[str] = st.lists(st.one_of(LEAF, LEAF, BLOCK), max_size=3).map("".join)

_TEMPLATES = st.lists(st.one_of(LEAF, BLOCK, BLOCK), min_size=1, max_size=4).map("".join)
TEMPLATES = st.deferred(lambda: _TEMPLATES)  # deferred: a short repr in reports
"""Whole templates, blocks nested as deep as Hypothesis takes them."""

_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.floats(-10, 10, allow_nan=False),
    _STRINGS,
    _TEXT,
)
VALUES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS + NAMES[:4]), children, max_size=4),
    ),
    max_leaves=12,
)
_RECORD = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(_STRINGS, _LEAVES),
        "title": _STRINGS,
        "price": st.one_of(st.integers(0, 50), st.floats(0, 50, allow_nan=False), _STRINGS),
        "tags": st.lists(_STRINGS, max_size=3),
    },
)
_CONTEXTS = st.one_of(
    st.fixed_dictionaries(
        {"items": st.lists(_RECORD, max_size=4), "user": _RECORD},
        optional={"a": VALUES, "b": VALUES, "s": _STRINGS, "n": st.integers(-2, 4)},
    ),
    st.dictionaries(st.sampled_from(NAMES[:-3]), VALUES, max_size=7),
)
CONTEXTS = st.deferred(lambda: _CONTEXTS)
"""Render data: half the time ``items`` and ``user`` have the shapes templates expect,
otherwise any JSON-like values (nulls, mixed types) under any of the names."""
