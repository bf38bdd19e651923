"""Outcome events: what the delivery pipeline appends to the event log.

Every outcome is an ordinary track event named `message.<outcome>` whose
properties always carry the fields below, so that audiences (`message_outcome`)
and journey reactions can rely on them.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What happened to a message."""

    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    OPENED = "opened"
    CLICKED = "clicked"
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINED = "complained"
    SKIPPED = "skipped"
    FAILED = "failed"

    @property
    def event_name(self) -> str:
        return f"message.{self.value}"


class SourceKind(StrEnum):
    """Which of the four approaches (or a test send) caused a message."""

    JOURNEY = "journey"
    CAMPAIGN = "campaign"
    API = "api"
    CANVAS = "canvas"
    TEST = "test"


OUTCOME_PROPERTIES = (
    "message_id",
    "channel",
    "source_kind",
    "source_name",
    "source_id",
    "source_version",
    "template",
    "template_version",
)
"""Properties present on every `message.*` outcome event (`reason` is added for
skipped and failed outcomes)."""
