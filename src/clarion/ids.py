"""Identifier and secret generation."""

from __future__ import annotations

import secrets

import uuid_utils


def new_id() -> str:
    """A new time-ordered identifier (UUIDv7), as a string."""
    return str(uuid_utils.uuid7())


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token with `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)
