"""Compiled template versions for rendering, cached per workspace and fragment set."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from clarion.delivery.templates.compile import CompiledMessageTemplate, TemplateCompiler
from clarion.model.errors import NotFound
from clarion.storage.base import Page, Tx


class TemplateStore:
    """Finds and compiles template versions; compiled versions are reused."""

    def __init__(self, capacity: int = 512) -> None:
        self._compiled: OrderedDict[tuple[str, str, int, str], CompiledMessageTemplate] = (
            OrderedDict()
        )
        self._capacity = capacity
        self._lock = threading.Lock()

    def fragments(self, tx: Tx, workspace_id: str) -> dict[str, str]:
        """The workspace's fragments by name."""
        docs = tx.documents.list(workspace_id, "fragment", Page(limit=10_000))
        return {d.name: str(d.spec.get("content", "")) for d in docs}

    def get(
        self,
        tx: Tx,
        workspace_id: str,
        name: str,
        version: int | None,
        fragments: dict[str, str] | None = None,
    ) -> CompiledMessageTemplate:
        """The compiled version (the latest when `version` is None); NotFound if absent."""
        doc = (
            tx.documents.version(workspace_id, "template", name, version)
            if version
            else tx.documents.get(workspace_id, "template", name)
        )
        if doc is None:
            raise NotFound(f"no template {name!r}" + (f" version {version}" if version else ""))
        fragments = self.fragments(tx, workspace_id) if fragments is None else fragments
        stamp = hashlib.sha256(repr(sorted(fragments.items())).encode()).hexdigest()[:16]
        key = (workspace_id, name, doc.version, stamp)
        with self._lock:
            cached = self._compiled.get(key)
            if cached is not None:
                self._compiled.move_to_end(key)
                return cached
        compiled = TemplateCompiler(fragments).compile(name, doc.version, doc.spec)
        with self._lock:
            self._compiled[key] = compiled
            while len(self._compiled) > self._capacity:
                self._compiled.popitem(last=False)
        return compiled
