"""Message templates: per-channel fields, Liquid compiled once per version, fragments."""

from clarion.delivery.templates.compile import (
    CompiledMessageTemplate,
    TemplateCompiler,
    TemplateError,
)
from clarion.delivery.templates.kind import FragmentKind, TemplateKind
from clarion.delivery.templates.store import TemplateStore

__all__ = [
    "CompiledMessageTemplate",
    "FragmentKind",
    "TemplateCompiler",
    "TemplateError",
    "TemplateKind",
    "TemplateStore",
]
