"""Apply a batch of documents all-or-nothing, in dependency order; delete safely."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion.documents.errors import DocumentProblem, InvalidDocuments, StillReferenced
from clarion.documents.registry import DocumentKind, KindRegistry, ValidationContext
from clarion.model.documents import Ref
from clarion.model.errors import NotFound
from clarion.storage.base import Tx

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,199}$")
"""Names are what references use: letters, digits and ` ._:@-`, at most 200."""


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What applying one document did."""

    kind: str
    name: str
    id: str
    version: int
    action: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "id": self.id,
            "version": self.version,
            "action": self.action,
        }


@dataclass(slots=True)
class _Doc:
    index: int
    ref: Ref
    handler: DocumentKind
    spec: dict[str, Any]


def _envelope(
    index: int, raw: Any, registry: KindRegistry, problems: list[DocumentProblem]
) -> _Doc | None:
    def problem(path: str, message: str, kind: Any = None, name: Any = None) -> None:
        problems.append(DocumentProblem(index, kind, name, path, message))

    if not isinstance(raw, Mapping):
        problem("", "a document must be an object with `kind` and `name`")
        return None
    kind, name = raw.get("kind"), raw.get("name")
    kind_s = kind if isinstance(kind, str) else None
    handler = registry.get(kind_s) if kind_s else None
    if name is None and handler is not None and handler.default_name is not None:
        name = handler.default_name
        raw = {**raw, "name": name}
    name_s = name if isinstance(name, str) else None
    if handler is None:
        known = ", ".join(registry.names())
        problem("kind", f"unknown kind {kind!r}; known kinds: {known}", kind_s, name_s)
    if name_s is None or not NAME_PATTERN.match(name_s):
        problem("name", "a name is 1-200 letters, digits or ` ._:@-`", kind_s, name_s)
    if handler is None or name_s is None or kind_s is None:
        return None
    return _Doc(index, Ref(kind_s, name_s), handler, dict(raw))


def _dependency_order(docs: list[_Doc], refs: dict[Ref, list[Ref]]) -> list[_Doc]:
    """Referenced documents first; reference cycles keep their given order."""
    by_ref = {d.ref: d for d in docs}
    ordered: list[_Doc] = []
    state: dict[Ref, int] = {}

    def visit(doc: _Doc) -> None:
        if state.get(doc.ref):
            return
        state[doc.ref] = 1
        for target in refs[doc.ref]:
            if target in by_ref and not state.get(target):
                visit(by_ref[target])
        state[doc.ref] = 2
        ordered.append(doc)

    for doc in docs:
        visit(doc)
    return ordered


def apply_documents(
    tx: Tx,
    registry: KindRegistry,
    workspace_id: str,
    raw_documents: Sequence[Any],
    now: datetime,
    *,
    dry_run: bool = False,
) -> list[ApplyResult]:
    """Validate every document, then apply all of them in `tx`.

    Raises `InvalidDocuments` listing every problem (and changes nothing) if any
    document is invalid. The caller's transaction makes the apply atomic.
    """
    problems: list[DocumentProblem] = []
    docs = [
        d for i, raw in enumerate(raw_documents) if (d := _envelope(i, raw, registry, problems))
    ]
    batch: dict[Ref, _Doc] = {}
    for doc in docs:
        if doc.ref in batch:
            problems.append(
                DocumentProblem(
                    doc.index,
                    doc.ref.kind,
                    doc.ref.name,
                    "name",
                    f"{doc.ref} appears twice in this batch",
                )
            )
        batch[doc.ref] = doc

    def lookup(ref: Ref) -> Mapping[str, Any] | None:
        if ref in batch:
            return batch[ref].spec
        stored = tx.documents.get(workspace_id, ref.kind, ref.name)
        return stored.spec if stored else None

    ctx = ValidationContext(lookup)
    refs: dict[Ref, list[Ref]] = {}
    for doc in docs:
        for p in doc.handler.validate(doc.spec, ctx):
            problems.append(
                DocumentProblem(doc.index, doc.ref.kind, doc.ref.name, p.path, p.message)
            )
        refs[doc.ref] = doc.handler.references(doc.spec)
        for target in refs[doc.ref]:
            if lookup(target) is None:
                problems.append(
                    DocumentProblem(
                        doc.index,
                        doc.ref.kind,
                        doc.ref.name,
                        "",
                        f"refers to {target}, which does not exist",
                    )
                )
    if problems:
        raise InvalidDocuments(sorted(problems, key=lambda p: p.document))
    results = []
    for doc in _dependency_order(docs, refs):
        if dry_run:
            stored = tx.documents.get(workspace_id, doc.ref.kind, doc.ref.name)
            action = (
                "unchanged"
                if stored and stored.spec == doc.spec
                else ("updated" if stored else "created")
            )
            results.append(
                ApplyResult(
                    doc.ref.kind,
                    doc.ref.name,
                    stored.id if stored else "",
                    stored.version if stored else 0,
                    action,
                )
            )
            continue
        stored, action = doc.handler.apply(tx, workspace_id, doc.ref.name, doc.spec, now)
        tx.documents.set_refs(workspace_id, doc.ref, refs[doc.ref])
        results.append(ApplyResult(stored.kind, stored.name, stored.id, stored.version, action))
    order = {d.ref: d.index for d in docs}
    return sorted(results, key=lambda r: order[Ref(r.kind, r.name)])


def delete_document(tx: Tx, registry: KindRegistry, workspace_id: str, ref: Ref) -> None:
    """Delete a document unless something refers to it (`StillReferenced`, a 409)."""
    stored = tx.documents.get(workspace_id, ref.kind, ref.name)
    if stored is None:
        raise NotFound(f"no {ref.kind} named {ref.name!r}")
    referrers = tx.documents.referrers(workspace_id, ref)
    if referrers:
        raise StillReferenced(ref, referrers)
    handler = registry.get(ref.kind)
    if handler is not None:
        handler.on_delete(tx, stored)
    tx.documents.delete(workspace_id, ref.kind, ref.name)
