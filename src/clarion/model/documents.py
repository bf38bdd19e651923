"""Definitions as data: the envelope every applied document shares.

A document is a mapping with a `kind` and a `name`; the rest is the kind's own
spec. Documents refer to each other by `(kind, name)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """A reference to a document of a kind, by name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a document is invalid: where (a dotted path) and why."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document as stored: its identity, current version and spec."""

    id: str
    workspace_id: str
    kind: str
    name: str
    version: int
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.name)
