"""Accepting parsed messages: one durable append per request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from clarion.clock import Clock
from clarion.ingest.segment import Intake, Problem, parse_message
from clarion.model.events import NewEvent
from clarion.storage.base import Database


@dataclass
class IngestResult:
    """What happened to the messages of one request."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, Problem]] = field(default_factory=list)


def parse_all(
    messages: Sequence[object], intake: Intake, call_type: str | None = None
) -> tuple[list[NewEvent], list[tuple[int, Problem]]]:
    """Valid events, and (index, problem) for each refused message."""
    events: list[NewEvent] = []
    rejected: list[tuple[int, Problem]] = []
    for index, raw in enumerate(messages):
        parsed = parse_message(raw, intake, call_type)
        if isinstance(parsed, Problem):
            rejected.append((index, parsed))
        else:
            events.append(parsed)
    return events, rejected


def append_events(
    db: Database, clock: Clock, workspace_id: str, events: Sequence[NewEvent]
) -> IngestResult:
    """Append events durably; the result counts duplicates of earlier message ids."""
    result = IngestResult()
    if not events:
        return result
    with db.write() as tx:
        appended = tx.events.append(workspace_id, events, clock.now())
    result.accepted = sum(1 for a in appended if a.seq is not None)
    result.duplicates = len(appended) - result.accepted
    return result
