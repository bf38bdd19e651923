"""Subscription groups as a document kind (`kind: subscription_group`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clarion.documents import DocumentKind, ValidationContext
from clarion.model.consent import CHANNELS, GroupDefault
from clarion.model.documents import Problem, StoredDocument
from clarion.storage.base import Tx


class SubscriptionGroupKind(DocumentKind):
    """`{kind: subscription_group, name, channel, default: opt_in|opt_out, description?}`."""

    kind = "subscription_group"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        problems = []
        if spec.get("channel") not in CHANNELS:
            problems.append(Problem("channel", f"must be one of {', '.join(CHANNELS)}"))
        if spec.get("default", "opt_out") not in ("opt_in", "opt_out"):
            problems.append(Problem("default", "must be opt_in or opt_out"))
        if not isinstance(spec.get("description", ""), str):
            problems.append(Problem("description", "must be a string"))
        return problems

    def apply(
        self, tx: Tx, workspace_id: str, name: str, spec: dict[str, Any], now: datetime
    ) -> tuple[StoredDocument, str]:
        tx.consent.put_group(
            workspace_id,
            name,
            spec["channel"],
            GroupDefault(spec.get("default", "opt_out")),
            spec.get("description", ""),
            now,
        )
        return super().apply(tx, workspace_id, name, spec, now)

    def on_delete(self, tx: Tx, document: StoredDocument) -> None:
        tx.consent.delete_group(document.workspace_id, document.name)
