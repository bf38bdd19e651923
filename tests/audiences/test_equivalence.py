"""The single most important audience test: SQL on SQLite, PostgreSQL and DuckDB and the
in-memory evaluator return the same members, on random definitions and random data.

Each scenario holds a flat `any` of several leaves and random trees; every leaf
and every tree's root is compared (a wrong leaf can hide under an `any`).
Deterministic (`derandomize`) and bounded; the slow run generates 500
scenarios, the fast loop a small sample.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.audiences.data import Engines
from tests.audiences.per_node import engine_table, evaluator_table, labelled_nodes
from tests.audiences.scenarios import Scenario, scenarios

SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    # No shrinking: each example loads three databases, so shrinking would outlast the
    # test timeout; the failure message holds the whole scenario instead.
    "phases": [Phase.explicit, Phase.generate],
}


def check(engines: Engines, scenario: Scenario) -> None:
    """Every engine agrees with the evaluator on every node of every definition, and the
    public entry points (`members`, `duckdb_members`, `evaluate`) on a tree."""
    definitions = [definition for _, definition in scenario.definitions]
    nodes = labelled_nodes(definitions, skip_roots=frozenset({0}))  # 0: a flat `any` of leaves
    expected = evaluator_table(scenario.dataset, nodes, scenario.now, scenario.resolver)
    with engines.loaded(scenario.dataset) as connections:
        for name, conn in connections.items():
            found = engine_table(name, conn, nodes, scenario.now, scenario.resolver)
            wrong = [label for label, _ in nodes if found[label] != expected[label]]
            assert not wrong, (
                f"{name} disagrees with the evaluator on {wrong[0]}: "
                f"{sorted(found[wrong[0]])} != {sorted(expected[wrong[0]])}\n"
                f"{scenario.describe(scenario.definitions[int(wrong[0][1:].split(':')[0])][0])}"
            )
        raw, first = scenario.definitions[0]
        members = engines.results(
            connections, scenario.dataset, first, scenario.now, scenario.resolver
        )
        assert all(found == members["evaluator"] for found in members.values()), (
            f"{members}\n{scenario.describe(raw)}"
        )


@settings(max_examples=40, **SETTINGS)
@given(scenario=scenarios())
def test_engines_agree_on_a_sample(engines: Engines, scenario: Scenario) -> None:
    check(engines, scenario)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 5 minutes alone; 11-13 when the machine is shared
@settings(max_examples=500, **SETTINGS)
@given(scenario=scenarios())
def test_engines_agree_on_500_random_scenarios(engines: Engines, scenario: Scenario) -> None:
    check(engines, scenario)
