"""Audiences compiled together share the audiences they refer to, and answer as alone."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from clarion.audiences import StaticResolver, compile_definition
from clarion.audiences.errors import AudienceCycle, NotCompilable
from clarion.audiences.memory import CompiledAudience, EventView, ProfileView, compile_audiences
from clarion.audiences.semantics import TRACK
from clarion.model.audience import parse_audience

DAY = 86_400_000_000
NOW = 1_800_000_000_000_000
SPECS = {
    "se": {"trait": {"path": "country", "op": "eq", "value": "SE"}},
    "buyers": {
        "performed": {
            "event": "Order Completed",
            "where": [{"path": "total", "op": "gte", "value": 100}],
            "within": {"last": 7, "unit": "days"},
        }
    },
    "se-buyers": {"all": [{"in_audience": "se"}, {"in_audience": "buyers"}]},
    "not-se-buyers": {"not": {"in_audience": "se-buyers"}},
    "loop-a": {"in_audience": "loop-b"},
    "loop-b": {"in_audience": "loop-a"},
    "on-list": {"in_audience": "uploaded"},
}


class CountingTraits(Mapping[str, Any]):
    """Traits that count how often a value is read."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values, self.reads = values, 0

    def __getitem__(self, key: str) -> Any:
        self.reads += 1
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _resolver() -> StaticResolver:
    specs = {n: parse_audience({"name": n, "definition": d}) for n, d in SPECS.items()}
    specs["uploaded"] = parse_audience({"name": "uploaded", "type": "list"})
    return StaticResolver(specs)


def _compiled() -> dict[str, CompiledAudience | Exception]:
    resolver = _resolver()
    definitions = {n: s.definition for n, s in resolver.audiences.items() if s.definition}
    return dict(compile_audiences(definitions, resolver))


def _view(country: str, orders: list[tuple[int, int]], pid: str = "p") -> ProfileView:
    events = [EventView(TRACK, "Order Completed", t, {"total": total}) for t, total in orders]
    return ProfileView(pid, CountingTraits({"country": country}), events=events)


def test_compiled_together_answers_as_each_compiled_alone() -> None:
    together = _compiled()
    resolver = _resolver()
    views = [
        _view("SE", [(NOW - DAY, 150)]),
        _view("SE", [(NOW - 8 * DAY, 150), (NOW - 2 * DAY, 50)]),
        _view("NO", [(NOW - DAY, 500)]),
        _view("SE", []),
    ]
    for name in ("se", "buyers", "se-buyers", "not-se-buyers"):
        alone = compile_definition(resolver.audiences[name].definition, resolver)  # type: ignore[arg-type]
        shared = together[name]
        assert isinstance(shared, CompiledAudience)
        for view in views:
            for now in (NOW, NOW + 3 * DAY, NOW + 10 * DAY):
                assert shared.at(view, now) == (
                    alone.holds(view, now),
                    alone.next_change(view, now),
                )
    # What does not compile alone does not compile together; the rest is unaffected.
    assert isinstance(together["loop-a"], AudienceCycle)
    assert isinstance(together["loop-b"], AudienceCycle)
    assert isinstance(together["on-list"], NotCompilable)


def test_a_referred_audience_is_evaluated_once_per_view_and_instant() -> None:
    together = _compiled()
    se, se_buyers, outer = together["se"], together["se-buyers"], together["not-se-buyers"]
    assert isinstance(se, CompiledAudience) and isinstance(se_buyers, CompiledAudience)
    assert isinstance(outer, CompiledAudience)
    view = _view("SE", [(NOW - DAY, 150)])
    traits = view.traits
    assert isinstance(traits, CountingTraits)
    assert se.at(view, NOW) == (True, None)
    once = traits.reads
    assert once > 0
    assert se_buyers.at(view, NOW) == (True, NOW - DAY + 7 * DAY)
    assert outer.at(view, NOW) == (False, NOW - DAY + 7 * DAY)
    assert traits.reads == once  # `se` was evaluated once for the three of them
    # Another instant, or another view of the same profile (a later batch), is asked again.
    assert se_buyers.at(view, NOW + 7 * DAY) == (False, None)
    assert traits.reads == 2 * once
    later = _view("NO", [(NOW - DAY, 150)])
    assert se_buyers.at(later, NOW) == (False, NOW - DAY + 7 * DAY)
    assert se.at(later, NOW) == (False, None)


def test_an_audience_is_timed_when_it_or_one_it_refers_to_has_a_window() -> None:
    together = _compiled()
    timed = {n: c.timed for n, c in together.items() if isinstance(c, CompiledAudience)}
    assert timed == {"se": False, "buyers": True, "se-buyers": True, "not-se-buyers": True}
