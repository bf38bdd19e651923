"""What the compilers look up beyond the definition: other audiences, subscription groups.

`in_audience` is inlined in this phase: the referenced audience's definition is
compiled in place, with cycle detection. A static list audience has no
definition; referencing one needs the membership table (a later phase).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from clarion.audiences.errors import AudienceCycle, NotCompilable, UnknownAudience
from clarion.model.audience import AudienceSpec, Definition
from clarion.model.consent import GroupDefault


@dataclass(frozen=True, slots=True)
class SubscriptionGroup:
    """A subscription group as the compilers need it."""

    name: str
    channel: str
    default: GroupDefault


class Resolver(Protocol):
    """Looks up other audiences and subscription groups of one workspace."""

    def audience(self, name: str) -> AudienceSpec | None:
        """The audience named `name`, or None."""
        ...

    def subscription_group(self, name: str) -> SubscriptionGroup | None:
        """The subscription group named `name`, or None."""
        ...


@dataclass(frozen=True)
class StaticResolver:
    """A `Resolver` over fixed mappings (tests, previews, one-off counts)."""

    audiences: Mapping[str, AudienceSpec] = field(default_factory=dict)
    groups: Mapping[str, SubscriptionGroup] = field(default_factory=dict)

    def audience(self, name: str) -> AudienceSpec | None:
        """The audience named `name`, or None."""
        return self.audiences.get(name)

    def subscription_group(self, name: str) -> SubscriptionGroup | None:
        """The subscription group named `name`, or None."""
        return self.groups.get(name)


NO_REFERENCES = StaticResolver()
"""A resolver that knows no other audience and no subscription group."""


def inline(resolver: Resolver, name: str, path: str, stack: tuple[str, ...]) -> Definition:
    """The definition `in_audience: name` stands for.

    Raises on an unknown audience, a list audience, or a cycle (`stack` holds the
    audiences being inlined).
    """
    if name in stack:
        chain = " -> ".join([*stack, name])
        raise AudienceCycle(f"{path}: in_audience cycle: {chain}", field=path)
    spec = resolver.audience(name)
    if spec is None:
        raise UnknownAudience(f"{path}: no audience named {name!r}", field=path)
    if spec.definition is None:
        raise NotCompilable(
            f"{path}: {name!r} is a list audience; referencing it needs stored memberships",
            field=path,
        )
    return spec.definition
