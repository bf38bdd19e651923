"""The schema resolved for compiling: every entity with its links both ways.

`Catalog.entity(name)` includes the built-in `profiles`; `Link` is one step of
a path, many-to-one (`hotel`) or one-to-many (`bookings`). Paths in filters and
templates walk links (`hotel.region`); on `profiles`, what is left of a path
after its links is a trait path (`profile.address.city`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clarion.orchestrated.schema import PROFILES, EntitySpec, SchemaSpec


@dataclass(frozen=True, slots=True)
class Link:
    """One step from `source` to `target`.

    Many-to-one (`many=False`): `source.column` holds the target's key (its
    primary key, or an identity value in `namespace` when the target is
    `profiles`). One-to-many (`many=True`) is the same link read backwards:
    the target's `column` points at the source.
    """

    name: str
    source: str
    target: str
    column: str
    many: bool
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity of the catalog."""

    name: str
    table: str
    primary_key: str
    attributes: dict[str, str]
    links: dict[str, Link] = field(default_factory=dict)

    @property
    def is_profiles(self) -> bool:
        """The built-in entity of Clarion's profiles."""
        return self.name == PROFILES

    def type_of(self, column: str) -> str | None:
        """The declared type of an attribute (profiles: `id` only; traits are JSON)."""
        return self.attributes.get(column)


@dataclass(frozen=True, slots=True)
class Step:
    """A resolved path: the links walked, the entity reached, and the column there."""

    links: tuple[Link, ...]
    entity: Entity
    column: str | None
    """An attribute of `entity`; None when the path ends on a link."""
    trait: tuple[str, ...] = ()
    """On `profiles`: the trait path left after the links."""


class PathError(ValueError):
    """A path names an undeclared attribute or link; the message says which."""


class Catalog:
    """Entities by name, with derived reverse links."""

    def __init__(self, spec: SchemaSpec) -> None:
        self.spec = spec
        entities = {e.name: _entity(e) for e in spec.entities}
        entities[PROFILES] = Entity(PROFILES, PROFILES, "id", {"id": "string"})
        for declared in spec.entities:
            for link in declared.links:
                forward = Link(link.name, declared.name, link.to, link.on, False, link.identity)
                entities[declared.name].links[link.name] = forward
                back_name = link.reverse or declared.name
                target = entities[link.to]
                if back_name in target.links or back_name in target.attributes:
                    continue  # ambiguous: only `reverse` names it
                target.links[back_name] = Link(
                    back_name, link.to, declared.name, link.on, True, link.identity
                )
        self.entities = entities

    def entity(self, name: str) -> Entity:
        """The entity named `name`; KeyError when there is none."""
        return self.entities[name]

    def resolve(self, entity: str, path: str, *, allow_many: bool = False) -> Step:
        """Walk `path` from `entity`; `PathError` names the first unknown segment."""
        current = self.entities[entity]
        walked: list[Link] = []
        segments = path.split(".")
        for i, segment in enumerate(segments):
            rest = tuple(segments[i + 1 :])
            link = current.links.get(segment)
            if link is not None:
                if link.many and not allow_many:
                    raise PathError(
                        f"{segment!r} is a one-to-many link of {current.name}: use an aggregate"
                    )
                walked.append(link)
                current = self.entities[link.target]
                if not rest:
                    return Step(tuple(walked), current, None)
                continue
            if current.is_profiles and segment != "id":
                return Step(tuple(walked), current, None, (segment, *rest))
            if segment in current.attributes and not rest:
                return Step(tuple(walked), current, segment)
            if segment in current.attributes:
                raise PathError(f"{segment!r} is an attribute of {current.name}, not a link")
            raise PathError(f"{current.name} has no attribute or link {segment!r}")
        raise PathError(f"empty path {path!r}")

    def profile_link(self, entity: str) -> Link | None:
        """The many-to-one link from `entity` to profiles (the first declared)."""
        for link in self.entities[entity].links.values():
            if link.target == PROFILES and not link.many:
                return link
        return None


def _entity(spec: EntitySpec) -> Entity:
    return Entity(spec.name, spec.table or spec.name, spec.primary_key, dict(spec.attributes))
