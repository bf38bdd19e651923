"""Journey lifecycle: draft -> live -> paused -> live ... -> stopped | closed.

Publishing makes the current document version live and pins the versions of
the templates it sends, so editing a template does not change a live journey
until it is published again. Profiles in flight finish on the version they
entered. Pausing holds profiles at message nodes (and refuses new entries);
resuming releases them, at a rate if asked. Stopping makes everyone leave;
closing refuses new entries and lets those in flight finish.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.documents.errors import DocumentProblem, InvalidDocuments
from clarion.journeys.engine import JourneyEngine
from clarion.journeys.fanout import schedule_read
from clarion.journeys.io import Resume, Stop
from clarion.journeys.state import Instance
from clarion.journeys.validate import parse
from clarion.model.errors import Conflict, NotFound
from clarion.storage.base import Tx

TRANSITIONS = {
    "publish": {"draft", "live", "paused", "closed", "stopped"},
    "pause": {"live"},
    "resume": {"paused"},
    "stop": {"live", "paused", "closed"},
    "close": {"live", "paused"},
}


def status_of(tx: Tx, workspace_id: str, journey: str) -> str:
    state = tx.journeys.state(workspace_id, journey)
    return state.status if state else "draft"


def _check(tx: Tx, workspace_id: str, journey: str, action: str) -> str:
    if tx.documents.get(workspace_id, "journey", journey) is None:
        raise NotFound(f"no journey {journey!r}")
    status = status_of(tx, workspace_id, journey)
    if status not in TRANSITIONS[action]:
        raise Conflict(f"cannot {action} a {status} journey", field="status")
    return status


def publish(tx: Tx, workspace_id: str, journey: str, now: datetime) -> dict[str, Any]:
    """Make the current version live, pinning its templates' versions."""
    _check(tx, workspace_id, journey, "publish")
    doc = tx.documents.get(workspace_id, "journey", journey)
    assert doc is not None
    spec, problems = parse(doc.spec)
    if spec is None:
        raise InvalidDocuments(
            [DocumentProblem(0, "journey", journey, p.path, p.message) for p in problems]
        )
    state = tx.journeys.state(workspace_id, journey)
    pinned = dict(state.pinned) if state else {}
    templates: dict[str, int] = {}
    for node in spec.nodes:
        if node.type == "message":
            template = tx.documents.get(workspace_id, "template", node.template)
            if template is None:
                raise Conflict(f"template {node.template!r} does not exist", field="template")
            templates[node.template] = template.version
    pinned[str(doc.version)] = templates
    tx.journeys.set_state(workspace_id, journey, "live", doc.version, pinned, now, published=True)
    if spec.entry.type == "read_audience":
        engine = JourneyEngine(tx, workspace_id, now)
        schedule_read(engine, journey, doc.id, spec.entry.at)
        engine.flush()
    return {
        "journey": journey,
        "status": "live",
        "version": doc.version,
        "pinned_templates": templates,
    }


def _set(tx: Tx, workspace_id: str, journey: str, status: str, now: datetime) -> None:
    state = tx.journeys.state(workspace_id, journey)
    assert state is not None
    tx.journeys.set_state(workspace_id, journey, status, state.live_version, state.pinned, now)


def pause(tx: Tx, workspace_id: str, journey: str, now: datetime) -> dict[str, Any]:
    _check(tx, workspace_id, journey, "pause")
    _set(tx, workspace_id, journey, "paused", now)
    return {"journey": journey, "status": "paused"}


def resume(
    tx: Tx, workspace_id: str, journey: str, now: datetime, limit: int | None = None
) -> dict[str, Any]:
    """Back to live; release held profiles (at most `limit` now: the rest on later calls)."""
    status = status_of(tx, workspace_id, journey)
    if status == "paused":
        _set(tx, workspace_id, journey, "live", now)
    elif status != "live":
        _check(tx, workspace_id, journey, "resume")
    engine = JourneyEngine(tx, workspace_id, now)
    held = [
        Instance.from_json(s)
        for s in tx.journeys.of_journey(
            workspace_id, journey, status=["waiting"], limit=limit or 100_000
        )
    ]
    released = 0
    for instance in held:
        if instance.waiting is not None and instance.waiting.kind == "held":
            engine.run(instance, Resume())
            released += 1
    engine.flush()
    return {"journey": journey, "status": "live", "released": released}


def stop(tx: Tx, workspace_id: str, journey: str, now: datetime) -> dict[str, Any]:
    """Everyone leaves; no one enters again until the journey is published anew."""
    _check(tx, workspace_id, journey, "stop")
    engine = JourneyEngine(tx, workspace_id, now)
    stopped = 0
    while True:
        batch = tx.journeys.of_journey(
            workspace_id, journey, status=["active", "waiting"], limit=1000
        )
        if not batch:
            break
        for state in batch:
            engine.run(Instance.from_json(state), Stop())
            stopped += 1
        engine.flush()
    _set(tx, workspace_id, journey, "stopped", now)
    return {"journey": journey, "status": "stopped", "exited": stopped}


def close(tx: Tx, workspace_id: str, journey: str, now: datetime) -> dict[str, Any]:
    _check(tx, workspace_id, journey, "close")
    _set(tx, workspace_id, journey, "closed", now)
    return {"journey": journey, "status": "closed"}
