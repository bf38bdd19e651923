"""Document kinds: each registers how it is validated, what it refers to, and how it is applied.

A kind is a `DocumentKind`; the default behaviour stores the document's spec in
the documents table. Later packages subclass it (audience, template, journey,
campaign, schema, canvas) and register the subclass with the app's
`KindRegistry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from clarion.model.documents import Problem, Ref, StoredDocument
from clarion.storage.base import Tx


class ValidationContext:
    """What a validator may look up: other documents, in this batch or stored."""

    def __init__(self, lookup: Callable[[Ref], Mapping[str, Any] | None]) -> None:
        self._lookup = lookup

    def find(self, ref: Ref) -> Mapping[str, Any] | None:
        """The spec of the referenced document (the batch's version first), or None."""
        return self._lookup(ref)


class DocumentKind:
    """A kind of document. Subclasses override the hooks they need."""

    kind: str = ""
    default_name: str | None = None
    """The name a document of this kind gets when it has none (one per workspace)."""

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        """Problems with `spec` (paths relative to the document); empty when valid."""
        return []

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        """The documents this one refers to by name."""
        return []

    def apply(
        self, tx: Tx, workspace_id: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        """Store the document; returns it and `created`, `updated` or `unchanged`."""
        return tx.documents.put(workspace_id, self.kind, name, spec, now)

    def on_delete(self, tx: Tx, document: StoredDocument) -> None:
        """Clean up the kind's own state when its document is deleted."""


class KindRegistry:
    """The document kinds an app knows, by name."""

    def __init__(self, kinds: Iterable[DocumentKind] = ()) -> None:
        self._kinds: dict[str, DocumentKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: DocumentKind) -> None:
        if not kind.kind:
            raise ValueError("a document kind needs a name")
        if kind.kind in self._kinds:
            raise ValueError(f"document kind {kind.kind!r} is already registered")
        self._kinds[kind.kind] = kind

    def get(self, kind: str) -> DocumentKind | None:
        return self._kinds.get(kind)

    def names(self) -> list[str]:
        return sorted(self._kinds)
