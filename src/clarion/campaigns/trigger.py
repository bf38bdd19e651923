"""API-triggered campaigns: one call, up to 1,000 recipients, each answered.

In ONE transaction: the `requestId` is recorded (a retry finds it and gets the
first answer back, sending nothing new), recipients are looked up by identity,
unknown ones are created (`create_profiles`) or sent to by their inline address,
and every intent is queued. The caller then wakes the dispatcher, so the
provider call follows the commit at once instead of on the next polling tick.

Marketing or transactional comes from the campaign; the pipeline applies the
rules (transactional messages bypass marketing consent, caps and quiet hours,
never hard suppression). A message's later fate (`sent`, `skipped: unsubscribed`)
is at `GET /v1/messages/{message_id}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.campaigns.errors import CampaignStateError
from clarion.campaigns.lifecycle import pinned_of, state_of
from clarion.campaigns.trigger_request import TriggerRecipient, TriggerRequest
from clarion.delivery import enqueue
from clarion.ids import new_id
from clarion.model.documents import StoredDocument
from clarion.model.messages import MessageIntent
from clarion.model.profiles import Identity, ProfileRecord
from clarion.storage.base import Tx

_ADDRESS_NAMESPACE = {"email": "email", "sms": "phone"}


def _create_profiles(
    tx: Tx, workspace_id: str, wanted: dict[Identity, TriggerRecipient], now: datetime
) -> dict[Identity, str]:
    records, owners = [], []
    for identity, recipient in wanted.items():
        traits = dict(recipient.profile or {})
        if identity[0] in ("email", "phone"):
            traits.setdefault(identity[0], identity[1])
        record = ProfileRecord(new_id(), workspace_id, traits, {}, now, now)
        records.append(record)
        owners.append((identity, record.id))
    if records:
        tx.profiles.insert(records)
        tx.profiles.assign(workspace_id, owners, now)
    return dict(owners)


def trigger(
    tx: Tx, document: StoredDocument, request: TriggerRequest, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Queue the call's messages; returns the answer and whether it is a replay."""
    state = state_of(tx, document)
    if state.type != "api":
        raise CampaignStateError(
            f"campaign {document.name!r} is an action campaign; activate or run it instead",
            field="campaign",
        )
    if state.status != "running":
        raise CampaignStateError(
            f"campaign {document.name!r} is {state.status}; activate it to accept triggers",
            field="campaign",
        )
    pinned = pinned_of(state)
    schedule = pinned.spec.schedule
    if schedule is not None and not schedule.within(now):
        raise CampaignStateError(
            "the campaign accepts triggers only between its start and end", field="schedule"
        )
    workspace_id = document.workspace_id
    earlier = tx.campaigns.claim_request(workspace_id, document.id, request.request_id, now)
    if earlier is not None:
        return earlier, True
    identities = [r.identity for r in request.recipients]
    owners = tx.profiles.owners(workspace_id, identities)
    if pinned.spec.create_profiles:
        unknown = {r.identity: r for r in request.recipients if r.identity not in owners}
        owners.update(_create_profiles(tx, workspace_id, unknown, now))
    run = f"req:{request.request_id}"
    answers: list[dict[str, Any]] = []
    intents: list[MessageIntent] = []
    for index, recipient in enumerate(request.recipients):
        profile_id = owners.get(recipient.identity)
        namespace = _ADDRESS_NAMESPACE.get(pinned.channel)
        address = recipient.address if recipient.identity[0] == namespace else None
        if profile_id is None and address is None:
            reason = "no_address" if recipient.address is not None else "profile_not_found"
            answers.append({"index": index, "status": "skipped", "reason": reason})
            continue
        context = {**request.context, **recipient.context}
        if profile_id is None and recipient.profile is not None:
            context.setdefault("profile", recipient.profile)
        intent = pinned.intent(
            workspace_id,
            pinned.source(run, row_key=str(index)),
            profile_id=profile_id,
            address=address,
            context=context,
        )
        intents.append(intent)
        answers.append({"index": index, "status": "queued", "message_id": intent.message_id})
    enqueue(tx, intents, now)
    answer = {
        "requestId": request.request_id,
        "campaign": {"id": document.id, "name": document.name},
        "category": pinned.spec.category.value,
        "queued": len(intents),
        "recipients": answers,
    }
    tx.campaigns.answer_request(workspace_id, document.id, request.request_id, answer)
    return answer, False
