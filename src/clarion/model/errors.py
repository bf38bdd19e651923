"""The error hierarchy every package builds on.

    ClarionError
    ├── InvalidInput   bad input at a boundary (-> 400); names the field at fault
    ├── NotFound       no such object in this workspace (-> 404)
    ├── Conflict       the change contradicts stored state (-> 409)
    ├── Forbidden      the caller's role does not allow it (-> 403)
    └── TooLarge       a body or item over its size limit (-> 413)

Expected skips (capped, suppressed, unsubscribed) are recorded outcomes, not errors.
"""

from __future__ import annotations

from typing import Any


class ClarionError(Exception):
    """Base of every error Clarion raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class InvalidInput(ClarionError):
    """The request or document is malformed; `field` names where."""

    code = "invalid"


class NotFound(ClarionError):
    """The object does not exist in the caller's workspace."""

    code = "not_found"


class Conflict(ClarionError):
    """The change contradicts stored state (a duplicate name, a referenced object)."""

    code = "conflict"


class Forbidden(ClarionError):
    """The caller is authenticated but its role does not allow the operation."""

    code = "forbidden"


class TooLarge(ClarionError):
    """A body or an item is over its size limit."""

    code = "too_large"
