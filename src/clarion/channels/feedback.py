"""Provider feedback: delivery, bounce and complaint reports, whatever the vendor's format.

Vendor formats (Twilio status callbacks, SES through SNS, Postmark) become
`Feedback` values; `record_feedback` suppresses the address on a hard bounce or
a complaint (even for a message Clarion does not know) and appends the outcome
event of a known message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion.delivery.outcomes import outcome_event
from clarion.model.outcomes import Outcome
from clarion.profiles.consent import address_hash
from clarion.storage.base import Tx

OUTCOMES = {
    "delivered": Outcome.DELIVERED,
    "bounced": Outcome.BOUNCED,
    "complained": Outcome.COMPLAINED,
    "opened": Outcome.OPENED,
    "clicked": Outcome.CLICKED,
}


@dataclass(frozen=True, slots=True)
class Feedback:
    channel: str
    status: str
    """delivered, bounced, complained, opened or clicked."""
    message_id: str | None = None
    address: str | None = None
    bounce_type: str = "hard"
    reason: str = ""
    provider: str = ""


def our_message_id(header: str | None) -> str | None:
    """`msg_...` from a Message-ID header `<msg_...@domain>` (or a bare id)."""
    if not header:
        return None
    value = header.strip().strip("<>").split("@", 1)[0]
    return value if value.startswith("msg_") and len(value) <= 40 else None


def record_feedback(tx: Tx, workspace_id: str, item: Feedback, now: datetime) -> dict[str, Any]:
    """Suppress when it calls for it; the outcome event when the message is known."""
    queued = tx.outbox.get(workspace_id, item.message_id) if item.message_id else None
    address = item.address or (queued.sent_to or queued.intent.address if queued else None)
    suppress = {"complained": "complaint", "bounced": "hard_bounce"}.get(item.status)
    if item.status == "bounced" and item.bounce_type != "hard":
        suppress = None
    if suppress and address:
        tx.suppressions.add(
            workspace_id,
            item.channel,
            address_hash(item.channel, address),
            address,
            suppress,
            now,
        )
    recorded = None
    if queued is not None and item.status in OUTCOMES:
        extra: dict[str, Any] = {"provider": item.provider} if item.provider else {}
        if item.reason:
            extra["reason"] = item.reason
        if item.status == "bounced":
            extra["bounce_type"] = item.bounce_type
        outcome = OUTCOMES[item.status]
        once = item.status not in ("opened", "clicked")
        event = outcome_event(queued.intent, outcome, now, unique=not once, **extra)
        tx.events.append(workspace_id, [event], now)
        recorded = outcome.event_name
    return {
        "message_id": item.message_id if queued else None,
        "recorded": recorded,
        "suppressed": bool(suppress and address),
    }
