"""Turning a presented token into a `Principal`, with a short-lived cache."""

from __future__ import annotations

import hmac
import threading
import time

from clarion.model.workspaces import Principal
from clarion.storage.base import Database
from clarion.workspaces.keys import parse_token, sha256_hex

CACHE_SECONDS = 10.0
"""How long a looked-up key is trusted without reading it again. A key revoked
through this process is dropped at once; other processes see it within this time."""


class Authenticator:
    """Checks tokens against stored keys; caches lookups for the ingestion hot path."""

    def __init__(self, db: Database, cache_seconds: float = CACHE_SECONDS) -> None:
        self._db = db
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[Principal | None, str, float]] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> Principal | None:
        """The principal for a valid, unrevoked token; None otherwise."""
        prefix = parse_token(token)
        if prefix is None:
            return None
        entry = self._cached(prefix)
        if entry is None:
            entry = self._load(prefix)
        principal, digest, _ = entry
        if principal is None or not hmac.compare_digest(digest, sha256_hex(token)):
            return None
        return principal

    def forget(self, prefix: str) -> None:
        """Drop a key from the cache (after revoking it)."""
        with self._lock:
            self._cache.pop(prefix, None)

    def _cached(self, prefix: str) -> tuple[Principal | None, str, float] | None:
        with self._lock:
            entry = self._cache.get(prefix)
        if entry is not None and entry[2] > time.monotonic():
            return entry
        return None

    def _load(self, prefix: str) -> tuple[Principal | None, str, float]:
        with self._db.read() as tx:
            found = tx.keys.find_by_prefix(prefix)
        principal: Principal | None = None
        digest = ""
        if found is not None:
            key, digest = found
            if key.revoked_at is None:
                principal = Principal(key.workspace_id, key.id, key.kind, key.role)
        entry = (principal, digest, time.monotonic() + self._ttl)
        with self._lock:
            self._cache[prefix] = entry
        return entry
