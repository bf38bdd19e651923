"""Audiences as a document kind, and a resolver over a workspace's stored documents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clarion.audiences.resolver import SubscriptionGroup
from clarion.documents import DocumentKind, ValidationContext
from clarion.model.audience import AudienceSpec, parse_audience, references, validate_audience
from clarion.model.documents import Problem, Ref, StoredDocument
from clarion.storage.base import Tx


class AudienceKind(DocumentKind):
    """`kind: audience`: a dynamic audience (a definition) or a static list."""

    kind = "audience"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        def lookup(name: str) -> AudienceSpec | None:
            found = ctx.find(Ref("audience", name))
            try:
                return parse_audience(found) if found is not None else None
            except Exception:  # an invalid neighbour reports its own problems
                return None

        return validate_audience(spec, lookup)

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        try:
            parsed = parse_audience(spec)
        except Exception:
            return []
        refs = (
            [Ref("audience", name) for _, name in references(parsed.definition)]
            if parsed.definition is not None
            else []
        )
        return sorted(set(refs))

    def apply(
        self, tx: Tx, workspace_id: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        stored, action = super().apply(tx, workspace_id, name, spec, now)
        if action != "unchanged":  # the background loop backfills it with SQL
            tx.audiences.set_status(
                workspace_id,
                name,
                "pending",
                stored.version,
                tx.audiences.count(workspace_id, name),
                now,
            )
        return stored, action

    def on_delete(self, tx: Tx, document: StoredDocument) -> None:
        tx.audiences.drop(document.workspace_id, document.name)


class TxResolver:
    """A `Resolver` reading a workspace's audiences and subscription groups in a transaction."""

    def __init__(self, tx: Tx, workspace_id: str) -> None:
        self._tx = tx
        self._workspace_id = workspace_id
        self._cache: dict[str, AudienceSpec | None] = {}

    def remember(self, name: str, spec: AudienceSpec) -> None:
        """Use `spec` for `name` (already read in this transaction) instead of reading it."""
        self._cache[name] = spec

    def audience(self, name: str) -> AudienceSpec | None:
        if name not in self._cache:
            doc = self._tx.documents.get(self._workspace_id, "audience", name)
            self._cache[name] = parse_audience(doc.spec) if doc else None
        return self._cache[name]

    def subscription_group(self, name: str) -> SubscriptionGroup | None:
        group = self._tx.consent.group(self._workspace_id, name)
        return SubscriptionGroup(group.name, group.channel, group.default) if group else None
