"""One generated case: a pool of values, a dataset, other audiences, definitions and `now`."""

from __future__ import annotations

import dataclasses
import pprint
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from clarion.audiences import StaticResolver
from clarion.model.audience import Definition, parse_audience, parse_definition
from tests.audiences.data import Dataset
from tests.audiences.definitions import flat, trees
from tests.audiences.strategies import NOWS, Pool, datasets, observe, scalars


@dataclass
class Scenario:
    """Everything one example runs: each definition on the same data."""

    now: int
    dataset: Dataset
    resolver: StaticResolver
    definitions: list[tuple[dict[str, Any], Definition]]

    def describe(self, raw: dict[str, Any]) -> str:
        """Everything needed to replay a failing definition: data, audiences, `now`."""
        others = {
            name: spec.model_dump(mode="json", by_alias=True)
            for name, spec in self.resolver.audiences.items()
        }
        return pprint.pformat(
            {
                "now": self.now,
                "definition": raw,
                "audiences": others,
                "dataset": dataclasses.asdict(self.dataset),
            },
            width=100,
        )


@st.composite
def scenarios(draw: st.DrawFn, trees_per_scenario: int = 2) -> Scenario:
    """A random scenario (see `tests.audiences.strategies`)."""
    now = draw(st.sampled_from(NOWS))
    pool = Pool(now, draw(st.lists(scalars(now), min_size=3, max_size=6)))
    dataset = draw(datasets(pool))
    pool = Pool(now, pool.values, observe(dataset))
    base = draw(trees(pool, [], max_leaves=3))
    nested = draw(trees(pool, ["aud0"], max_leaves=3))
    audiences = {
        "aud0": parse_audience({"name": "aud0", "definition": base}),
        "aud1": parse_audience({"name": "aud1", "definition": nested}),
    }
    resolver = StaticResolver(audiences, {g.name: g for g in dataset.groups})
    names = ["aud0", "aud1"]
    raw = [
        draw(flat(pool, names)),
        *draw(
            st.lists(trees(pool, names), min_size=trees_per_scenario, max_size=trees_per_scenario)
        ),
    ]
    return Scenario(now, dataset, resolver, [(d, parse_definition(d)) for d in raw])
