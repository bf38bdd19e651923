"""Errors of the audience compilers.

    ClarionError (clarion.model.errors)
    └── InvalidInput
        ├── InvalidAudience (clarion.model.audience)  the document itself is invalid
        └── AudienceCompileError                       a valid definition cannot be compiled here
            ├── NotCompilable       a node kind (or dialect) this engine does not compile yet
            ├── UnknownAudience     `in_audience` names an audience that does not exist
            └── AudienceCycle       `in_audience` references loop

Every one names the path of the node at fault (`field`).
"""

from __future__ import annotations

from clarion.model.errors import InvalidInput


class AudienceCompileError(InvalidInput):
    """A definition that validates cannot be compiled by this engine or resolver."""


class NotCompilable(AudienceCompileError):
    """No compiler is registered for a node kind (or a dialect) on this engine."""


class UnknownAudience(AudienceCompileError):
    """An `in_audience` node names an audience that does not exist."""


class AudienceCycle(AudienceCompileError):
    """`in_audience` references form a cycle."""
