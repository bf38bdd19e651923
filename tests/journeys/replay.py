"""Recorded journey histories, replayed through the pure step function.

A fixture holds a journey document, the profile the step sees, and a list of
(input, now) with the instance and effects the step produced when recorded.
Replaying must produce exactly the same: a change of behaviour shows up as a
diff. To record a new fixture (after checking the behaviour is right):

    .venv/bin/python -m tests.journeys.replay record NAME
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from clarion.audiences.memory import EventView, ProfileView
from clarion.journeys import nodes  # noqa: F401  (registers handlers)
from clarion.journeys.io import (
    Enter,
    EventInput,
    HttpResult,
    Input,
    Resume,
    Stop,
    TimerFired,
    World,
)
from clarion.journeys.state import Instance
from clarion.journeys.step import step
from clarion.journeys.validate import parse

HERE = Path(__file__).parent / "replays"
INPUTS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Enter, EventInput, TimerFired, HttpResult, Resume, Stop)
}


def input_from(data: dict[str, Any]) -> Input:
    fields = {k: v for k, v in data.items() if k != "type"}
    return INPUTS[data["type"]](**fields)  # type: ignore[no-any-return]


def effect_json(effect: Any) -> dict[str, Any]:
    return {"type": type(effect).__name__, **dataclasses.asdict(effect)}


def profile_from(data: dict[str, Any]) -> ProfileView:
    events = [EventView(**e) for e in data.get("events", [])]
    return ProfileView(
        data["id"],
        data.get("traits", {}),
        [tuple(i) for i in data.get("identities", [])],
        {},
        (),
        events,
        data.get("timezone"),
    )


def replay(fixture: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the fixture's inputs; returns what each step produced."""
    spec, problems = parse(fixture["journey"])
    assert spec is not None, problems
    instance = Instance(**fixture["instance"])
    caps: dict[str, int] = dict(fixture.get("caps", {}))
    produced = []
    for item in fixture["steps"]:
        world = World(
            now_us=item["now_us"],
            profile=profile_from(fixture["profile"]),
            caps=caps,
            default_timezone=spec.timezone,
        )
        instance, effects = step(spec, instance, input_from(item["input"]), world)
        produced.append(
            {"instance": instance.to_json(), "effects": [effect_json(e) for e in effects]}
        )
    return produced


def record(name: str) -> None:
    path = HERE / f"{name}.json"
    fixture = json.loads(path.read_text())
    for item, result in zip(fixture["steps"], replay(fixture), strict=True):
        item["expect"] = result
    path.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["record"]:
        record(sys.argv[2])
