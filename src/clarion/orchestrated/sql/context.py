"""The compilation context of canvas SQL: the row being tested and the joins it needs.

`RowContext` extends the audience compiler's `SqlContext`: the row is an entity
row (alias `row`) rather than always a profile, paths through many-to-one links
add LEFT JOINs (one per path, reused), and profile conditions read the row's
profile (itself, or the one its link to profiles reaches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from clarion.audiences.sql.build import all_of, eq, table
from clarion.audiences.sql.context import SqlContext
from clarion.orchestrated.catalog import Catalog, Entity, Link
from clarion.orchestrated.sql.dialects import CanvasDialect

TableOf = Callable[[str, str], exp.Expr]
"""(table name, alias) -> a FROM item; entity and work tables may live in a schema."""


@dataclass
class Joins:
    """LEFT JOINs a query collects while its predicates compile, reused by path."""

    items: list[tuple[exp.Expr, exp.Expr]] = field(default_factory=list)
    by_path: dict[str, str] = field(default_factory=dict)
    aggregates: dict[str, Any] = field(default_factory=dict)
    """Aggregate subqueries by (link, where): later aggregates add a column to them."""


@dataclass(frozen=True)
class RowContext(SqlContext):
    """A `SqlContext` whose row is an entity row; see the module docstring."""

    canvas: Any = None
    catalog: Any = None
    entity: Any = None
    row: str = "r"
    work: str | None = None
    enriched: dict[str, str] = field(default_factory=dict)
    joins: Joins = field(default_factory=Joins)
    table_of: Any = None

    @property
    def engine(self) -> CanvasDialect:
        """The canvas dialect."""
        assert isinstance(self.canvas, CanvasDialect)
        return self.canvas

    @property
    def schema(self) -> Catalog:
        """The catalog."""
        assert isinstance(self.catalog, Catalog)
        return self.catalog

    @property
    def current(self) -> Entity:
        """The entity of the row."""
        assert isinstance(self.entity, Entity)
        return self.entity

    def source(self, name: str, alias: str) -> exp.Expr:
        """A FROM item for an entity or work table."""
        return self.table_of(name, alias) if self.table_of else table(name, alias)

    def join(self, key: str, item: exp.Expr, on: exp.Expr) -> None:
        """Add a LEFT JOIN once per key."""
        if key not in self.joins.by_path:
            self.joins.items.append((item, on))

    def follow(self, start: str, link: Link, key: str) -> str:
        """The alias of the row `link` reaches from alias `start` (joined once per key)."""
        found = self.joins.by_path.get(key)
        if found is not None:
            return found
        source = exp.column(link.column, start)
        target = self.schema.entity(link.target)
        if target.is_profiles:
            alias = self.alias("lp")
            if link.namespace is not None:
                ident = self.alias("li")
                self.join(
                    key + "#i",
                    table("identities", ident),
                    all_of(
                        eq(exp.column("workspace_id", ident), self.workspace),
                        eq(exp.column("namespace", ident), self.params.add(link.namespace)),
                        eq(exp.column("value", ident), self.engine.as_text(source)),
                    ),
                )
                source = exp.column("profile_id", ident)
            self.join(
                key,
                table("profiles", alias),
                all_of(
                    eq(exp.column("workspace_id", alias), self.workspace),
                    eq(exp.column("id", alias), source),
                ),
            )
        else:
            alias = self.alias("l")
            self.join(
                key,
                self.source(target.table, alias),
                eq(exp.column(target.primary_key, alias), source),
            )
        self.joins.by_path[key] = alias
        return alias

    def walk(self, links: tuple[Link, ...]) -> str:
        """The alias reached by following `links` from the row."""
        alias, key = self.row, ""
        for link in links:
            key = f"{key}.{link.name}"
            alias = self.follow(alias, link, key)
        return alias

    def _profile_alias(self) -> str | None:
        if self.current.is_profiles:
            return self.row
        link = self.schema.profile_link(self.current.name)
        return None if link is None else self.walk((link,))

    @property
    def profile_id(self) -> exp.Expr:
        """The row's profile id ('' when it has none: no profile condition holds)."""
        alias = self._profile_alias()
        if alias is None:
            return exp.Literal.string("")
        if alias == self.row:
            return exp.column("id", alias)
        return exp.Coalesce(this=exp.column("id", alias), expressions=[exp.Literal.string("")])

    @property
    def traits(self) -> exp.Expr:
        """The traits of the row's profile."""
        alias = self._profile_alias()
        return exp.Null() if alias is None else exp.column("traits", alias)

    def key(self) -> exp.Expr:
        """The row's primary key."""
        return exp.column(self.current.primary_key, self.row)

    def for_entity(self, entity: Entity, row: str) -> RowContext:
        """A context for rows of another entity (an aggregate's subquery), own joins."""
        return RowContext(
            self.dialect,
            self.params,
            self.workspace_id,
            self.now,
            self.resolver,
            self.stack,
            self._aliases,
            canvas=self.canvas,
            catalog=self.catalog,
            entity=entity,
            row=row,
            table_of=self.table_of,
        )
