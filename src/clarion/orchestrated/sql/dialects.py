"""Engines for canvases: one generic SQL generation, sparse overrides per engine.

A `CanvasDialect` names the audience dialect that reads traits, the sqlglot
dialect that writes the SQL, and the few expressions that differ: the SHA-256
of an address (suppressions) and the stable hash that orders percentages and
random picks. That hash is `md5(seed || ':' || key)` as lower-case hex on every
engine, compared as text in code point order (`COLLATE "C"` on PostgreSQL), so
splits and top-N pick the same rows everywhere.
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp

from clarion.audiences.sql.build import cast, fn, text
from clarion.audiences.sql.dialects import SqlDialect, dialect_named
from clarion.orchestrated.sql import spark_json  # noqa: F401 - registers the Spark dialect


class CanvasDialect:
    """The generic engine (DuckDB's SQL); subclasses override what differs."""

    name: ClassVar[str] = "duckdb"
    sqlglot: ClassVar[object] = "duckdb"

    @property
    def audience(self) -> SqlDialect:
        """The audience-language dialect (traits, consent)."""
        return dialect_named(self.name)

    def as_text(self, value: exp.Expr) -> exp.Expr:
        """A key as text (integers print the same on every engine)."""
        return cast(value, "TEXT")

    def ordered(self, value: exp.Expr) -> exp.Expr:
        """A text compared by code point."""
        return value

    def stable_hash(self, seed: exp.Expr, key: exp.Expr) -> exp.Expr:
        """The hex MD5 of `seed:key`, an ordering as random as it is repeatable."""
        joined = exp.DPipe(
            this=exp.DPipe(this=seed, expression=text(":"), safe=True),
            expression=self.as_text(key),
            safe=True,
        )
        return self.ordered(fn("md5", joined))

    def sha256_hex(self, value: exp.Expr) -> exp.Expr:
        """The lower-case hex SHA-256 of a text (how suppressions keep addresses)."""
        return fn("sha256", value)

    def digits(self, value: exp.Expr) -> exp.Expr:
        """Only the ASCII digits of a text (phone numbers)."""
        return fn("regexp_replace", value, text("[^0-9]"), text(""), text("g"))

    def generate(self, expression: exp.Expr) -> str:
        """The SQL text."""
        return expression.sql(dialect=self.sqlglot, identify=True)  # type: ignore[arg-type]


class DuckDbCanvas(CanvasDialect):
    """DuckDB (the embedded default)."""


class PostgresCanvas(CanvasDialect):
    """PostgreSQL: `COLLATE "C"`, SHA-256 over UTF-8 bytes."""

    name = "postgresql"

    @property
    def sqlglot(self) -> object:  # type: ignore[override]
        return self.audience.sqlglot

    def ordered(self, value: exp.Expr) -> exp.Expr:
        return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))

    def sha256_hex(self, value: exp.Expr) -> exp.Expr:
        return fn("encode", fn("sha256", fn("convert_to", value, text("UTF8"))), text("hex"))


class SparkCanvas(CanvasDialect):
    """Spark SQL: `sha2`, and no regexp flags."""

    name = "spark"
    sqlglot = "spark"

    def sha256_hex(self, value: exp.Expr) -> exp.Expr:
        return fn("sha2", value, exp.Literal.number(256))

    def digits(self, value: exp.Expr) -> exp.Expr:
        return fn("regexp_replace", value, text("[^0-9]"), text(""))


CANVAS_DIALECTS: dict[str, CanvasDialect] = {
    "duckdb": DuckDbCanvas(),
    "postgresql": PostgresCanvas(),
    "spark": SparkCanvas(),
}
