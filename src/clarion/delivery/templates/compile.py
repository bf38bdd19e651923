"""Compiling a template version once: Liquid per field, MJML to HTML, CSS inlined.

A `CompiledMessageTemplate` renders all of a version's fields for one
recipient. Compilation happens when a template is saved (so errors are found
then, not at send time) and again, cached, when a dispatcher first needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import css_inline
from liquid.exceptions import LiquidError
from mjml import mjml_to_html

from clarion.delivery.liquid import CompiledTemplate, LiquidEngine, RenderLimits
from clarion.delivery.templates.spec import CHANNELS, ChannelSpec
from clarion.delivery.templates.text import html_to_text
from clarion.model.documents import Problem

FRAGMENT_TAG = re.compile(r"{%-?\s*(?:render|include)\s+['\"]([^'\"]+)['\"]")
_INLINER = css_inline.CSSInliner(
    keep_style_tags=True, keep_link_tags=True, load_remote_stylesheets=False
)  # never fetch anything while compiling


class TemplateError(Exception):
    """A template version that does not compile; `problems` locate each error."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


def liquid_sources(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, source) of every Liquid string of a template spec."""
    channel = CHANNELS.get(str(spec.get("channel")))
    if channel is None:
        return
    for name in channel.liquid:
        if isinstance(spec.get(name), str):
            yield name, spec[name]
    for name in channel.json:
        yield from _json_leaves(spec.get(name), name)


def _json_leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_leaves(item, f"{path}[{index}]")


def fragments_used(source: str) -> set[str]:
    """Fragment names a Liquid source renders or includes."""
    return set(FRAGMENT_TAG.findall(source))


@dataclass(frozen=True, slots=True)
class _JsonTemplate:
    render: Callable[[Mapping[str, object]], Any]


class CompiledMessageTemplate:
    """One template version, compiled: renders every field for a recipient."""

    def __init__(
        self,
        name: str,
        version: int,
        spec: Mapping[str, Any],
        fields: dict[str, CompiledTemplate],
        json: dict[str, _JsonTemplate],
    ) -> None:
        self.name = name
        self.version = version
        self.spec = dict(spec)
        self.channel = str(spec["channel"])
        self._fields = fields
        self._json = json

    def render(self, variables: Mapping[str, object]) -> dict[str, Any]:
        """Every field rendered; plain fields copied. Raises python-liquid's errors."""
        out: dict[str, Any] = {
            k: self.spec[k] for k in CHANNELS[self.channel].plain if k in self.spec
        }
        if "preheader" in self._fields:
            out["preheader"] = self._fields["preheader"].render(variables)
            variables = {**variables, "__preheader": out["preheader"]}
        for name, template in self._fields.items():
            if name != "preheader":
                out[name] = template.render(variables)
        for name, json_template in self._json.items():
            out[name] = json_template.render(variables)
        return out


class TemplateCompiler:
    """Compiles template specs against a workspace's fragments."""

    def __init__(self, fragments: Mapping[str, str], limits: RenderLimits | None = None) -> None:
        self.text_engine = LiquidEngine(fragments=fragments, limits=limits)
        self.html_engine = LiquidEngine(fragments=fragments, limits=limits, autoescape=True)

    def compile(self, name: str, version: int, spec: Mapping[str, Any]) -> CompiledMessageTemplate:
        """Compile a spec; raises `TemplateError` listing every problem."""
        problems = check_shape(spec)
        if problems:
            raise TemplateError(problems)
        channel = CHANNELS[str(spec["channel"])]
        sources = dict(spec)
        if channel is CHANNELS["email"]:
            sources = self._email_sources(spec, problems)
        fields: dict[str, CompiledTemplate] = {}
        for field in channel.liquid:
            if field == "mjml" or not isinstance(sources.get(field), str):
                continue
            engine = self.html_engine if field in channel.html else self.text_engine
            compiled = self._compile(engine, sources[field], f"{name}.{field}", field, problems)
            if compiled is not None:
                fields[field] = compiled
        json = {
            f: self._compile_json(spec[f], f"{name}.{f}", f, problems)
            for f in channel.json
            if f in spec
        }
        if problems:
            raise TemplateError(problems)
        return CompiledMessageTemplate(name, version, spec, fields, json)

    def _email_sources(self, spec: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
        sources = dict(spec)
        if isinstance(spec.get("mjml"), str):
            result = mjml_to_html(spec["mjml"])
            for error in getattr(result, "errors", []) or []:
                problems.append(Problem("mjml", f"MJML: {error}"))
            sources["html"] = result.html
        html = sources.get("html")
        if isinstance(html, str):
            if "<style" in html:
                html = _INLINER.inline(html)
            if isinstance(spec.get("preheader"), str):
                html = _with_preheader(html)
            sources["html"] = html
            if not isinstance(spec.get("text"), str):
                sources["text"] = html_to_text(html)
        return sources

    def _compile(
        self, engine: LiquidEngine, source: str, name: str, path: str, problems: list[Problem]
    ) -> CompiledTemplate | None:
        try:
            return engine.compile(source, name=name)
        except LiquidError as exc:
            problems.append(Problem(path, f"Liquid: {exc}"))
            return None

    def _compile_json(
        self, value: Any, name: str, path: str, problems: list[Problem]
    ) -> _JsonTemplate:
        if isinstance(value, str):
            template = self._compile(self.text_engine, value, name, path, problems)
            return _JsonTemplate(lambda v: template.render(v) if template else "")
        if isinstance(value, dict):
            parts = {
                k: self._compile_json(item, name, f"{path}.{k}", problems)
                for k, item in value.items()
            }
            return _JsonTemplate(lambda v: {k: p.render(v) for k, p in parts.items()})
        if isinstance(value, list):
            items = [
                self._compile_json(item, name, f"{path}[{i}]", problems)
                for i, item in enumerate(value)
            ]
            return _JsonTemplate(lambda v: [p.render(v) for p in items])
        return _JsonTemplate(lambda v: value)


def _with_preheader(html: str) -> str:
    hidden = (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
        "{{ __preheader }}</div>"
    )
    match = re.search(r"<body[^>]*>", html, flags=re.IGNORECASE)
    if match:
        return html[: match.end()] + hidden + html[match.end() :]
    return hidden + html


def check_shape(spec: Mapping[str, Any]) -> list[Problem]:
    """Channel, required fields and field types (before any compiling)."""
    channel_name = spec.get("channel")
    channel: ChannelSpec | None = CHANNELS.get(str(channel_name))
    if channel is None:
        return [Problem("channel", f"must be one of {', '.join(sorted(CHANNELS))}")]
    problems = [Problem(f, "is required") for f in channel.required if spec.get(f) in (None, "")]
    for group in channel.one_of:
        if not any(spec.get(f) not in (None, "") for f in group):
            problems.append(Problem(group[0], f"one of {', '.join(group)} is required"))
    for field in channel.liquid:
        if field in spec and not isinstance(spec[field], str):
            problems.append(Problem(field, "must be a string"))
    if spec.get("category", "marketing") not in ("marketing", "transactional"):
        problems.append(Problem("category", "must be marketing or transactional"))
    known = (
        set(channel.liquid)
        | set(channel.json)
        | set(channel.plain)
        | {"kind", "name", "channel", "surface"}
    )
    problems.extend(
        Problem(k, f"is not a field of {channel_name} templates") for k in spec if k not in known
    )
    return problems
