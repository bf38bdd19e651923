"""Errors of orchestrated campaigns.

ClarionError (clarion.model.errors)
├── InvalidInput
│   ├── InvalidSchema        the relational schema document is invalid
│   ├── InvalidCanvas        a canvas is invalid; `problems` name the activity ids
│   └── BadData              rows given to `data load` do not fit their entity
├── NotFound
│   ├── UnknownCanvas        no canvas with that id or name
│   ├── UnknownEntity        the schema declares no such entity
│   └── UnknownRun           no run or calculation with that id
├── Conflict
│   └── NoSchema             data or canvases need a `kind: schema` document first
└── DataSourceError          the data source (DuckDB, PostgreSQL, Spark) failed
"""

from __future__ import annotations

from clarion.model.documents import Problem
from clarion.model.errors import ClarionError, Conflict, InvalidInput, NotFound


class _WithProblems(InvalidInput):
    def __init__(self, what: str, problems: list[Problem]) -> None:
        text = "; ".join(f"{p.path or '(document)'}: {p.message}" for p in problems)
        super().__init__(
            f"{what}: {text}",
            field=problems[0].path if problems else None,
            problems=[{"path": p.path, "message": p.message} for p in problems],
        )
        self.problems = problems


class InvalidSchema(_WithProblems):
    """The schema document is invalid."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid schema", problems)


class InvalidCanvas(_WithProblems):
    """A canvas is invalid; each problem's path starts with the activity id."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("invalid canvas", problems)


class BadData(InvalidInput):
    """Loaded rows do not fit their entity (a missing key, a wrong type)."""


class UnknownCanvas(NotFound):
    """No canvas with that id or name in the workspace."""


class UnknownEntity(NotFound):
    """The workspace's schema declares no such entity (or there is no schema)."""


class UnknownRun(NotFound):
    """No run or calculation with that id."""


class NoSchema(Conflict):
    """The workspace has no `kind: schema` document (or not the entity asked for)."""


class DataSourceError(ClarionError):
    """The data source failed to run a statement."""

    code = "data_source"
