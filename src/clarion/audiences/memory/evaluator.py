"""Evaluate a definition against one profile, and say when time alone can change it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from clarion.audiences.errors import AudienceCompileError
from clarion.audiences.memory import events, logic, profile_nodes  # noqa: F401 - registration
from clarion.audiences.memory.compiler import (
    Compiled,
    MemoryContext,
    compile_node,
    never,
)
from clarion.audiences.memory.profile import ProfileView
from clarion.audiences.resolver import NO_REFERENCES, Resolver
from clarion.audiences.time_rules import as_micros
from clarion.model.audience import Definition


@dataclass(frozen=True, slots=True)
class CompiledAudience:
    """A definition compiled for the in-memory evaluator (compile once, test many profiles)."""

    root: Compiled

    def holds(self, profile: ProfileView, now: datetime | int) -> bool:
        """Whether `profile` is a member at `now`."""
        return self.root.holds(profile, as_micros(now))

    @property
    def timed(self) -> bool:
        """Whether membership can change through time alone (`at` may give a due instant)."""
        return self.root.changes is not never

    def next_change(self, profile: ProfileView, now: datetime | int) -> int | None:
        """The earliest instant (µs) after `now` at which membership may change through
        time alone (a window expiring, a date coming closer), or None if it never will.

        Only new data (events, traits, consent) changes membership before that
        instant; the instant itself may turn out to change nothing (re-evaluate then).
        """
        if self.root.changes is never:
            return None
        at = as_micros(now)
        later = [t for t in self.root.changes(profile, at) if t > at]
        return min(later) if later else None

    def at(self, profile: ProfileView, now: int) -> tuple[bool, int | None]:
        """`holds` and `next_change` at once, at `now` in µs (the membership consumer's
        question for every (profile, audience) pair it re-evaluates)."""
        root = self.root
        member = root.holds(profile, now)
        if root.changes is never:
            return member, None
        due = None
        for t in root.changes(profile, now):
            if t > now and (due is None or t < due):
                due = t
        return member, due


def compile_definition(
    definition: Definition, resolver: Resolver = NO_REFERENCES, path: str = "definition"
) -> CompiledAudience:
    """Compile a definition for the evaluator (raises `AudienceCompileError` naming the node)."""
    return CompiledAudience(compile_node(definition, path, MemoryContext(resolver)))


def compile_audiences(
    definitions: Mapping[str, Definition], resolver: Resolver = NO_REFERENCES
) -> dict[str, CompiledAudience | AudienceCompileError | ValueError]:
    """Compile several audiences together (by name): an audience that others refer to is
    compiled once more for them and, for one profile view at one instant, evaluated once
    for all of them and itself. An audience that does not compile maps to its error."""
    shared: dict[str, Compiled] = {}  # the audiences referred to, remembering answers
    compiled: dict[str, Compiled | AudienceCompileError | ValueError] = {}
    for name, definition in definitions.items():
        try:
            compiled[name] = compile_node(
                definition, "definition", MemoryContext(resolver, (), shared)
            )
        except (AudienceCompileError, ValueError) as error:
            compiled[name] = error
    return {
        name: root if isinstance(root, Exception) else CompiledAudience(shared.get(name, root))
        for name, root in compiled.items()
    }


def evaluate(
    definition: Definition,
    profile: ProfileView,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> bool:
    """Whether `profile` is a member of the audience `definition` at `now`."""
    return compile_definition(definition, resolver).holds(profile, now)


def next_change(
    definition: Definition,
    profile: ProfileView,
    now: datetime | int,
    resolver: Resolver = NO_REFERENCES,
) -> int | None:
    """When time alone may next change `profile`'s membership (µs), or None."""
    return compile_definition(definition, resolver).next_change(profile, now)
