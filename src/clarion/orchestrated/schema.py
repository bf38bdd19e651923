"""The relational schema of a workspace: entities, typed attributes and links.

```yaml
kind: schema
entities:
  - name: hotels
    primary_key: hotel_id
    attributes: {hotel_id: string, name: string, region: string, city: string}
  - name: bookings
    primary_key: booking_id
    attributes: {booking_id: string, customer_id: string, hotel_id: string, check_in: date}
    links:
      - {name: profile, to: profiles, on: customer_id, identity: user_id}
      - {name: hotel, to: hotels, on: hotel_id}
```

A declared link is many-to-one: `on` is a column of the entity holding the
key of the row it points at. A link to `profiles` (Clarion's own profile store)
goes through an identity namespace (`identity: user_id`: the column holds a
user id) or, without one, holds the profile id itself. Every link also gives
the entity it points at a one-to-many link back, named after the linking
entity (`profiles -> bookings`, `hotels -> bookings`) or `reverse`.

The document's `name` is optional (`default`); `source` picks the data source
(`duckdb`, the default, `postgresql` or `spark`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

PROFILES = "profiles"
"""The built-in entity: Clarion's profiles (primary key `id`, traits as attributes)."""

RESERVED = frozenset(
    {
        PROFILES,
        "identities",
        "subscriptions",
        "subscription_groups",
        "address_subscriptions",
        "suppressions",
        "events",
    }
)
"""Table names of Clarion's own store that every data source sees."""

IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TYPE_ALIASES = {
    "string": "string",
    "text": "string",
    "integer": "integer",
    "int": "integer",
    "bigint": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "datetime": "timestamp",
}
AttributeType = Literal["string", "integer", "number", "boolean", "date", "timestamp"]


def _type(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in TYPE_ALIASES:
        return TYPE_ALIASES[value.lower()]
    if isinstance(value, str):
        known = ", ".join(sorted(set(TYPE_ALIASES.values())))
        raise ValueError(f"unknown attribute type {value!r}; expected one of: {known}")
    return value


def _ident(value: str, what: str) -> str:
    if not IDENT.match(value):
        raise ValueError(f"{what} {value!r}: use lower-case letters, digits and _ (at most 63)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LinkSpec(_Strict):
    """A many-to-one link: `on` holds the key of the `to` row (or an identity of a profile)."""

    name: str
    to: str
    on: str
    identity: str | None = None
    """For links to `profiles`: the identity namespace the column holds."""
    reverse: str | None = None
    """The name of the one-to-many link back (default: the linking entity's name)."""

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads the key `on` as the boolean true: take it back."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _names(self) -> LinkSpec:
        _ident(self.name, "link")
        _ident(self.on, "column")
        if self.reverse is not None:
            _ident(self.reverse, "link")
        if self.identity is not None and self.to != PROFILES:
            raise ValueError("`identity` is for links to profiles")
        return self


class EntitySpec(_Strict):
    """A table: its primary key, typed attributes and links."""

    name: str
    primary_key: str
    attributes: dict[str, Annotated[AttributeType, BeforeValidator(_type)]]
    links: list[LinkSpec] = []
    table: str | None = None
    """The table holding the rows in the data source (default: the entity's name)."""
    description: str = ""

    @model_validator(mode="after")
    def _shape(self) -> EntitySpec:
        _ident(self.name, "entity")
        if self.name in RESERVED:
            raise ValueError(f"{self.name!r} is one of Clarion's own tables")
        for column in self.attributes:
            _ident(column, "attribute")
        if self.primary_key not in self.attributes:
            raise ValueError(f"primary key {self.primary_key!r} is not an attribute")
        for link in self.links:
            if link.on not in self.attributes:
                raise ValueError(f"link {link.name!r}: {link.on!r} is not an attribute")
            if link.name in self.attributes:
                raise ValueError(f"link {link.name!r} has the name of an attribute")
        if len({link.name for link in self.links}) != len(self.links):
            raise ValueError("link names must be unique")
        if self.table is not None:
            _ident(self.table, "table")
        return self


class SourceSpec(_Strict):
    """Where the entities' rows live."""

    engine: Literal["duckdb", "postgresql", "spark"] = "duckdb"
    url_env: str | None = None
    """PostgreSQL: the environment variable holding the URL (default: Clarion's database)."""
    master: str = "local[1]"
    """Spark: the master URL (local mode by default)."""


class SchemaSpec(_Strict):
    """`kind: schema`: the workspace's relational data model."""

    kind: Literal["schema"] = "schema"
    name: str = "default"
    description: str = ""
    source: SourceSpec = Field(default_factory=SourceSpec)
    entities: Annotated[list[EntitySpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _links(self) -> SchemaSpec:
        names = [e.name for e in self.entities]
        if len(set(names)) != len(names):
            raise ValueError("entity names must be unique")
        known = {*names, PROFILES}
        for entity in self.entities:
            for link in entity.links:
                if link.to not in known:
                    raise ValueError(
                        f"entity {entity.name!r}, link {link.name!r}: no entity named {link.to!r}"
                    )
        return self
