"""Orchestrated campaigns: batch canvases over relational data, compiled to SQL.

A workspace declares a relational schema (`kind: schema`) and canvases
(`kind: canvas`): DAGs of activities over working sets of its entities. A
canvas becomes a logical plan (`planner`, `plan`, `optimize`), each step one
SELECT per engine (`sql`: DuckDB, PostgreSQL, Spark SQL, through sqlglot with
bound parameters), executed as work tables on the workspace's data source
(`sources`). `service.CanvasService` calculates exact counts and runs canvases.
"""

from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.documents import find_canvas, load_catalog
from clarion.orchestrated.errors import (
    BadData,
    DataSourceError,
    InvalidCanvas,
    InvalidSchema,
    NoSchema,
    UnknownCanvas,
    UnknownEntity,
    UnknownRun,
)
from clarion.orchestrated.kind import CanvasKind, SchemaKind
from clarion.orchestrated.service import CanvasService, render_run
from clarion.orchestrated.sources.registry import SourceRegistry, data_dir_for
from clarion.orchestrated.sources.rows import parse_csv
from clarion.orchestrated.sql import filters  # noqa: F401 - registers attribute and aggregate

__all__ = [
    "BadData",
    "CanvasKind",
    "CanvasService",
    "Catalog",
    "DataSourceError",
    "InvalidCanvas",
    "InvalidSchema",
    "NoSchema",
    "SchemaKind",
    "SourceRegistry",
    "UnknownCanvas",
    "UnknownEntity",
    "UnknownRun",
    "data_dir_for",
    "find_canvas",
    "load_catalog",
    "parse_csv",
    "render_run",
]
