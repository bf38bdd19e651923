"""The single most important audience test: SQL on SQLite, PostgreSQL and DuckDB and the
in-memory evaluator return the same members, on random definitions and random data.

Deterministic (`derandomize`) and bounded; the slow run generates 500 scenarios
of up to three definitions each, the fast loop a small sample.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.audiences.data import Engines
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
    """Every engine returns the evaluator's members for every definition of the scenario."""
    with engines.loaded(scenario.dataset) as connections:
        for raw, definition in scenario.definitions:
            found = engines.results(
                connections, scenario.dataset, definition, scenario.now, scenario.resolver
            )
            expected = found["evaluator"]
            assert all(members == expected for members in found.values()), (
                f"{found}\n{scenario.describe(raw)}"
            )


@settings(max_examples=40, **SETTINGS)
@given(scenario=scenarios())
def test_engines_agree_on_a_sample(engines: Engines, scenario: Scenario) -> None:
    check(engines, scenario)


@pytest.mark.slow
@settings(max_examples=500, **SETTINGS)
@given(scenario=scenarios())
def test_engines_agree_on_500_random_scenarios(engines: Engines, scenario: Scenario) -> None:
    check(engines, scenario)
