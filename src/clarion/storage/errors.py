"""Storage errors.

ClarionError (clarion.model.errors)
└── StorageError        the backend failed or is misconfigured
    └── UnsupportedDatabase   a URL names a backend Clarion does not support
"""

from __future__ import annotations

from clarion.model.errors import ClarionError


class StorageError(ClarionError):
    """The storage backend failed or is misconfigured."""

    code = "storage_error"


class UnsupportedDatabase(StorageError):
    """The database URL names a backend Clarion does not support."""

    code = "unsupported_database"
