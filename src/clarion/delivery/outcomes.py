"""Outcome events: every delivery result, appended to the log as an ordinary event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.ids import new_id
from clarion.model.events import NewEvent
from clarion.model.messages import MessageIntent
from clarion.model.outcomes import Outcome


def outcome_properties(intent: MessageIntent, template_version: int | None) -> dict[str, Any]:
    """The fixed properties of every `message.*` event (`clarion.model.outcomes`)."""
    source = intent.source
    return {
        "message_id": intent.message_id,
        "channel": intent.channel,
        "source_kind": source.kind.value,
        "source_name": source.name,
        "source_id": source.id,
        "source_version": source.version,
        "template": intent.template,
        "template_version": template_version,
        "category": intent.category.value,
    }


def outcome_event(
    intent: MessageIntent,
    outcome: Outcome,
    now: datetime,
    *,
    template_version: int | None = None,
    unique: bool = False,
    **extra: Any,
) -> NewEvent:
    """The `message.<outcome>` event. Once-only outcomes (sent, skipped, failed, ...) get a
    deterministic message id, so a retry after a crash records them once."""
    properties = {**outcome_properties(intent, template_version), **extra}
    suffix = new_id() if unique else outcome.value
    return NewEvent(
        type="track",
        message_id=f"{intent.message_id}:{suffix}",
        event=outcome.event_name,
        profile_id=intent.profile_id,
        properties=properties,
        timestamp=now,
        origin="internal",
    )
