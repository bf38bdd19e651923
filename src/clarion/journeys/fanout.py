"""Entering many profiles at once: business events and read-audience journeys.

A business event ("Flash Sale Started") makes every member of an audience
enter, carrying the event's properties; a read-audience journey enters every
member when it is published (or at its `at` instant) and again every `every`.
The audience is snapshotted with the SQL compiler, and the entries are queued
as durable chunks (timer rows) that the timer loop works through, paced by
`rate_per_second`: a crash resumes where it stopped, and the re-entrance rules
keep anyone from entering twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clarion.ids import new_id
from clarion.model.audience import parse_audience
from clarion.model.durations import micros, parse_instant

if TYPE_CHECKING:
    from clarion.journeys.engine import JourneyEngine

CHUNK = 500


def members(engine: JourneyEngine, audience: str) -> list[str]:
    """The audience's members now (an SQL snapshot), or none if it is gone or a list."""
    doc = engine.tx.documents.get(engine.workspace_id, "audience", audience)
    spec = parse_audience(doc.spec) if doc else None
    if spec is None or spec.definition is None:
        return []
    return engine.tx.audience_members(
        engine.workspace_id, spec.definition, engine.now, engine.catalog.resolver
    )


def fan_out(
    engine: JourneyEngine,
    journey: str,
    profile_ids: list[str],
    context: dict[str, Any],
    rate_per_second: float | None = None,
) -> int:
    """Queue entries for many profiles in chunks; returns how many chunks."""
    run = new_id()
    chunks = [profile_ids[i : i + CHUNK] for i in range(0, len(profile_ids), CHUNK)]
    for index, chunk in enumerate(chunks):
        delay = int(index * CHUNK / rate_per_second * 1e6) if rate_per_second else 0
        engine.uow.schedule(
            {
                "instance_id": run,
                "key": f"fanout:{index}",
                "workspace_id": engine.workspace_id,
                "profile_id": "",
                "due_at": engine.now_us + delay,
                "kind": "fanout",
                "payload": {"journey": journey, "profiles": chunk, "context": context},
            }
        )
    return len(chunks)


def schedule_read(engine: JourneyEngine, journey: str, journey_id: str, at: str | None) -> None:
    """Plan the first read of a read-audience journey (at `at`, an ISO 8601 instant, or now)."""
    due = (parse_instant(at) if at else None) or engine.now_us
    engine.uow.schedule(_read_timer(engine, journey, journey_id, due))


def _read_timer(engine: JourneyEngine, journey: str, journey_id: str, due: int) -> dict[str, Any]:
    """The timer of a journey's next audience read (one per journey: its id is the
    journey's, which fits the 40 characters of a timer's instance id)."""
    return {
        "instance_id": journey_id,
        "key": "read",
        "workspace_id": engine.workspace_id,
        "profile_id": "",
        "due_at": due,
        "kind": "read",
        "payload": {"journey": journey},
    }


def run_chunk(engine: JourneyEngine, payload: dict[str, Any]) -> None:
    """Enter one chunk of a fan-out."""
    journey = str(payload["journey"])
    profiles = [str(p) for p in payload.get("profiles", [])]
    engine.uow.prefetch(profiles)
    for profile_id in profiles:
        if engine.uow.profile(profile_id) is not None:
            engine.enter(journey, profile_id, None, dict(payload.get("context") or {}))


def run_read(engine: JourneyEngine, payload: dict[str, Any]) -> None:
    """Read the audience of a read-audience journey and fan its members out."""
    journey = str(payload["journey"])
    running = engine.catalog.journeys.get(journey)
    spec = running.live if running else None
    if (
        spec is None
        or spec.entry.type != "read_audience"
        or running is None
        or running.state.status != "live"
    ):
        return
    entry = spec.entry
    fan_out(
        engine,
        journey,
        members(engine, entry.audience),
        {"read_at": engine.now_us},
        entry.rate_per_second,
    )
    if entry.every is not None:
        due = engine.now_us + micros(entry.every)
        engine.uow.schedule(_read_timer(engine, journey, running.journey_id, due))
