"""Recorded histories replayed through the step function give the recorded results."""

from __future__ import annotations

import json

import pytest

from tests.journeys.replay import HERE, replay

FIXTURES = sorted(HERE.glob("*.json"))


def test_there_are_recorded_histories() -> None:
    assert len(FIXTURES) >= 2


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_replay_gives_the_recorded_results(path: object) -> None:
    fixture = json.loads(path.read_text())  # type: ignore[attr-defined]
    produced = replay(fixture)
    for index, (item, result) in enumerate(zip(fixture["steps"], produced, strict=True)):
        assert result == item["expect"], f"step {index} ({item['input']['type']}) changed"
