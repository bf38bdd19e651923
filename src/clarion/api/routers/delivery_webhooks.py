"""A generic delivery-status webhook: what a provider reports about a message.

`POST /v1/webhooks/delivery` with a secret key and
`{"message_id", "status": "delivered"|"bounced"|"complained", "bounce_type"?: "hard"|"soft",
"reason"?}`. Hard bounces and complaints suppress the address. Vendor formats
(SES, Postmark, Twilio) map onto the same handling.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.services import Services, get_services
from clarion.delivery.outcomes import outcome_event
from clarion.model.errors import NotFound
from clarion.model.outcomes import Outcome
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.consent import address_hash

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class DeliveryStatus(BaseModel):
    message_id: str = Field(min_length=1, max_length=100)
    status: Literal["delivered", "bounced", "complained"]
    bounce_type: Literal["hard", "soft"] = "hard"
    reason: str = Field("", max_length=1000)


def record_status(services: Services, workspace_id: str, body: DeliveryStatus) -> dict[str, Any]:
    """Append the outcome; suppress the address on a hard bounce or a complaint."""
    now = services.clock.now()
    outcome = {
        "delivered": Outcome.DELIVERED,
        "bounced": Outcome.BOUNCED,
        "complained": Outcome.COMPLAINED,
    }[body.status]
    with services.db.write() as tx:
        item = tx.outbox.get(workspace_id, body.message_id)
        if item is None:
            raise NotFound(f"no message {body.message_id!r}", field="message_id")
        extra: dict[str, Any] = {"reason": body.reason} if body.reason else {}
        if body.status == "bounced":
            extra["bounce_type"] = body.bounce_type
        suppress = {"complained": "complaint", "bounced": "hard_bounce"}.get(body.status)
        if body.status == "bounced" and body.bounce_type == "soft":
            suppress = None
        address = item.sent_to or item.intent.address
        if suppress and address:
            channel = item.intent.channel
            tx.suppressions.add(
                workspace_id, channel, address_hash(channel, address), address, suppress, now
            )
        tx.events.append(workspace_id, [outcome_event(item.intent, outcome, now, **extra)], now)
    services.wake_consumers()
    return {
        "message_id": body.message_id,
        "recorded": outcome.event_name,
        "suppressed": bool(suppress and address),
    }


@router.post("/delivery")
async def delivery_status(
    body: DeliveryStatus,
    principal: Principal = Depends(require(Role.EDITOR)),
    services: Services = Depends(get_services),
) -> Any:
    return await run_in_threadpool(record_status, services, principal.workspace_id, body)
