"""When the step schedules the global timeout's timer: once, and only when a wait may
outlast the deadline (a wait that ends first wakes the walk, which checks again)."""

from __future__ import annotations

from typing import Any

import yaml

from clarion.audiences.memory import ProfileView
from clarion.journeys import nodes  # noqa: F401  (registers handlers)
from clarion.journeys.io import Enter, ScheduleTimer, TimerFired, World
from clarion.journeys.state import Instance
from clarion.journeys.step import step
from clarion.journeys.validate import parse

HOUR = 3_600_000_000
DAY = 24 * HOUR

JOURNEY = """
kind: journey
name: paced
entry: {type: api}
timeout: 3d
nodes:
  - {id: short, type: wait, duration: 2h, next: react}
  - id: react
    type: reaction
    events: [{event: Bought, next: long}]
    timeout: 1d
    timeout_next: long
  - {id: long, type: wait, duration: 10d, next: forever}
  - id: forever
    type: reaction
    events: [{event: Bought, next: done}]
    timeout: 5d
    timeout_next: done
  - {id: done, type: end}
"""


def _timers(effects: list[Any]) -> list[tuple[str, int]]:
    return [(e.key, e.due_us) for e in effects if isinstance(e, ScheduleTimer)]


def test_the_timeout_timer_waits_for_a_wait_that_may_outlast_the_deadline() -> None:
    spec, problems = parse(yaml.safe_load(JOURNEY))
    assert spec is not None, problems
    start = 1_000 * DAY
    deadline = start + 3 * DAY
    walk = Instance("i1", "w1", "j1", "paced", 1, "p1", start, deadline)

    def run(given: Any, now: int) -> list[tuple[str, int]]:
        nonlocal walk
        walk, effects = step(spec, walk, given, World(now_us=now, profile=ProfileView("p1")))
        return _timers(effects)

    # A 2-hour wait and a 1-day reaction end before the 3-day deadline: no timeout yet.
    assert run(Enter(None, {}), start) == [("short:0", start + 2 * HOUR)]
    assert not walk.timeout_scheduled
    now = start + 2 * HOUR
    assert run(TimerFired("short:0"), now) == [("react:0", now + DAY)]
    # The 10-day wait would outlast it: the timeout is scheduled, once.
    now += DAY
    assert run(TimerFired("react:0"), now) == [("long:0", now + 10 * DAY), ("timeout", deadline)]
    assert walk.timeout_scheduled
    assert run(TimerFired("timeout"), deadline) == []
    assert (walk.status, walk.exit_reason) == ("exited", "journey timeout")


def test_a_reaction_that_may_outlast_the_deadline_schedules_it_with_its_own() -> None:
    document = JOURNEY.replace("duration: 2h, next: react", "duration: 2h, next: forever")
    spec, problems = parse(yaml.safe_load(document))
    assert spec is not None, problems
    walk = Instance("i1", "w1", "j1", "paced", 1, "p1", 0, 3 * DAY)
    walk, effects = step(spec, walk, Enter(None, {}), World(now_us=0, profile=ProfileView("p1")))
    assert _timers(effects) == [("short:0", 2 * HOUR)]
    now = 2 * HOUR
    walk, effects = step(spec, walk, TimerFired("short:0"), World(now, ProfileView("p1")))
    assert _timers(effects) == [("forever:0", now + 5 * DAY), ("timeout", 3 * DAY)]


def test_walks_stored_before_the_field_kept_their_timeout_from_entry() -> None:
    stored = Instance("i1", "w1", "j1", "paced", 1, "p1", 0, 3 * DAY).to_json()
    del stored["timeout_scheduled"]
    assert Instance.from_json(stored).timeout_scheduled
