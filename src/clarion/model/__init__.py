"""Definitions and records shared by every package: pure data, no I/O.

`model` imports nothing else of Clarion's (an import-linter contract enforces it).
"""

from clarion.model.errors import ClarionError, Conflict, Forbidden, InvalidInput, NotFound
from clarion.model.roles import Role

__all__ = ["ClarionError", "Conflict", "Forbidden", "InvalidInput", "NotFound", "Role"]
