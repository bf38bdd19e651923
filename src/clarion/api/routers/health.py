"""Liveness: answers once the server accepts traffic (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter

import clarion

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """200 when the server is up and its database is migrated."""
    return {"status": "ok", "version": clarion.__version__}
