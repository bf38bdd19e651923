"""Templates and fragments as document kinds: checked when saved, versioned on change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.delivery.templates.compile import (
    TemplateCompiler,
    TemplateError,
    check_shape,
    fragments_used,
    liquid_sources,
)
from clarion.documents import DocumentKind, ValidationContext
from clarion.model.documents import Problem, Ref


def _fragment_closure(names: set[str], ctx: ValidationContext) -> dict[str, str]:
    """The named fragments and every fragment they use in turn (missing ones left out)."""
    found: dict[str, str] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        spec = ctx.find(Ref("fragment", name))
        content = spec.get("content") if spec else None
        if isinstance(content, str):
            found[name] = content
            pending.extend(fragments_used(content) - set(found))
    return found


class TemplateKind(DocumentKind):
    """`kind: template`: a message template of one channel (see `templates.spec`)."""

    kind = "template"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        problems = check_shape(spec)
        if problems:
            return problems
        used = {name for _path, source in liquid_sources(spec) for name in fragments_used(source)}
        fragments = _fragment_closure(used, ctx)
        try:
            TemplateCompiler(fragments).compile(str(spec["name"]), 0, spec)
        except TemplateError as exc:
            problems.extend(exc.problems)
        return problems

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        refs = [
            Ref("fragment", name)
            for _path, source in liquid_sources(spec)
            for name in sorted(fragments_used(source))
        ]
        if isinstance(spec.get("subscription_group"), str):
            refs.append(Ref("subscription_group", spec["subscription_group"]))
        return refs


class FragmentKind(DocumentKind):
    """`kind: fragment`: reusable Liquid (`{% render 'footer' %}`), shared by templates."""

    kind = "fragment"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        content = spec.get("content")
        if not isinstance(content, str):
            return [Problem("content", "a fragment needs a content string")]
        fragments = _fragment_closure(fragments_used(content), ctx)
        fragments[str(spec.get("name"))] = content
        try:
            TemplateCompiler(fragments).text_engine.compile(content, name=str(spec.get("name")))
        except Exception as exc:  # python-liquid raises several error types when parsing
            return [Problem("content", f"Liquid: {exc}")]
        return []

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        content = spec.get("content")
        name = spec.get("name")
        used = fragments_used(content) if isinstance(content, str) else set()
        return [Ref("fragment", n) for n in sorted(used) if n != name]
