"""Definitions as code: the kind registry and all-or-nothing `apply`."""

from clarion.documents.apply import ApplyResult, apply_documents, delete_document
from clarion.documents.errors import DocumentProblem, InvalidDocuments
from clarion.documents.registry import DocumentKind, KindRegistry, ValidationContext

__all__ = [
    "ApplyResult",
    "DocumentKind",
    "DocumentProblem",
    "InvalidDocuments",
    "KindRegistry",
    "ValidationContext",
    "apply_documents",
    "delete_document",
]
