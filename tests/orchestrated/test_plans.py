"""The logical plan and the optimiser passes, against fixture files.

Each file in `fixtures/plans/` names a canvas (from this folder's documents)
and the plan it must give, one step a line (`plan.describe`): how each working
set is made, what flows on it, and which steps reuse another's table
(`optimize.alias_pass_through`). Regenerate a file by deleting its `plan`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clarion.orchestrated.catalog import Catalog
from clarion.orchestrated.documents import parse_canvas, parse_schema
from clarion.orchestrated.optimize import alias_pass_through, optimize
from clarion.orchestrated.plan import describe
from clarion.orchestrated.planner import build_plan
from tests.orchestrated.hotel_data import documents

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "plans").glob("*.yaml"))


def _plan(name: str) -> str:
    docs = documents("chain_documents.yaml") + documents("issue_documents.yaml")[1:]
    schema, _ = parse_schema(docs[0])
    assert schema is not None
    canvas = next(d for d in docs if d.get("name") == name)
    spec, problems = parse_canvas(canvas)
    assert spec is not None, problems
    plan, problems = build_plan(spec, Catalog(schema))
    assert plan is not None, problems
    return describe(optimize(plan))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_plan_matches_its_fixture(path: Path) -> None:
    fixture = yaml.safe_load(path.read_text())
    assert _plan(fixture["canvas"]).splitlines() == fixture["plan"].strip().splitlines()


def test_passes_are_pure() -> None:
    docs = documents("chain_documents.yaml")
    schema, _ = parse_schema(docs[0])
    spec, _ = parse_canvas(docs[1])
    assert schema is not None and spec is not None
    plan, _ = build_plan(spec, Catalog(schema))
    assert plan is not None
    before = describe(plan)
    once = alias_pass_through(plan)
    assert describe(plan) == before  # the input is untouched
    assert describe(alias_pass_through(once)) == describe(once)  # idempotent
