"""Errors of applying documents.

InvalidInput (clarion.model.errors)
└── InvalidDocuments   one or more documents of an apply are invalid; nothing changed
Conflict (clarion.model.errors)
└── StillReferenced    a document cannot be deleted while others refer to it
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clarion.model.documents import Ref
from clarion.model.errors import Conflict, InvalidInput


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """A problem located in a batch: document index, kind and name, path, reason."""

    document: int
    kind: str | None
    name: str | None
    path: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "kind": self.kind,
            "name": self.name,
            "path": self.path,
            "message": self.message,
        }


class InvalidDocuments(InvalidInput):
    """At least one document is invalid; the apply changed nothing."""

    code = "invalid_documents"

    def __init__(self, problems: list[DocumentProblem]) -> None:
        count = len(problems)
        first = problems[0]
        where = f"document {first.document} ({first.kind}/{first.name}) at {first.path or '/'}"
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''}; first: {where}: {first.message}",
            field=f"documents[{first.document}].{first.path}".rstrip("."),
        )
        self.problems = problems


class StillReferenced(Conflict):
    """The document is referenced by others and cannot be deleted."""

    code = "still_referenced"

    def __init__(self, target: Ref, referrers: list[Ref]) -> None:
        names = ", ".join(str(r) for r in referrers)
        super().__init__(f"{target} is referenced by {names}")
        self.target = target
        self.referrers = referrers
