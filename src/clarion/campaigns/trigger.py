"""API-triggered campaigns: one call, up to 1,000 recipients, each answered.

In ONE transaction: the `requestId` is recorded (a retry finds it and gets the
first answer back, sending nothing new), recipients are looked up by identity,
unknown ones are created (`create_profiles`) or sent to by their inline address,
and every intent is queued. When the transaction commits, the intents are handed to
this process's dispatcher (queued leased to it: no claim), or it is woken, so the
provider call follows the commit at once instead of on the next polling tick.

Marketing or transactional comes from the campaign; the pipeline applies the
rules (transactional messages bypass marketing consent, caps and quiet hours,
never hard suppression). A message's later fate (`sent`, `skipped: unsubscribed`)
is at `GET /v1/messages/{message_id}`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from clarion.campaigns.errors import CampaignStateError
from clarion.campaigns.lifecycle import find_campaign, pinned_of, state_of
from clarion.campaigns.pinned import Pinned
from clarion.campaigns.trigger_request import TriggerRecipient, TriggerRequest, parse_trigger
from clarion.delivery.outbox import HandOff, enqueue_now
from clarion.ids import new_id
from clarion.model.documents import StoredDocument
from clarion.model.errors import ClarionError
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


def _checked(tx: Tx, document: StoredDocument, now: datetime) -> Pinned:
    """The pinned campaign, if it accepts triggers now."""
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
    return pinned


def _nothing() -> None:
    return None


def trigger(
    tx: Tx, document: StoredDocument, request: TriggerRequest, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Queue one call's messages; returns the answer and whether it is a replay."""
    return trigger_many(tx, document, [request], now)[0]


def trigger_many(
    tx: Tx,
    document: StoredDocument,
    requests: list[TriggerRequest],
    now: datetime,
    handoff: HandOff | None = None,
    wake: Callable[[], None] = _nothing,
) -> list[tuple[dict[str, Any], bool]]:
    """Queue several calls' messages with a handful of statements for all of them (the
    calls a group commit gathered); answers in order, each with whether it is a replay.
    A requestId seen before, or earlier in `requests`, gets the first answer. The
    messages go to `handoff` once `tx` commits, or `wake` is called (`enqueue_now`)."""
    pinned = _checked(tx, document, now)
    workspace_id = document.workspace_id
    ids = list(dict.fromkeys(r.request_id for r in requests))
    earlier = tx.campaigns.claim_requests(workspace_id, document.id, ids, now)
    fresh: dict[str, TriggerRequest] = {}
    for request in requests:  # the first of repeated ids in one group is the one sent
        if earlier.get(request.request_id) is None:
            fresh.setdefault(request.request_id, request)
    recipients = [rec for r in fresh.values() for rec in r.recipients]
    owners = tx.profiles.owners(workspace_id, list({rec.identity for rec in recipients}))
    if pinned.spec.create_profiles:
        unknown = {rec.identity: rec for rec in recipients if rec.identity not in owners}
        owners.update(_create_profiles(tx, workspace_id, unknown, now))
    intents: list[MessageIntent] = []
    answers: dict[str, dict[str, Any]] = {}
    for request in fresh.values():
        answer, queued = _answer(pinned, document, request, owners)
        intents.extend(queued)
        answers[request.request_id] = answer
    enqueue_now(tx, intents, now, handoff, wake)
    tx.campaigns.answer_requests(workspace_id, document.id, answers)
    out: list[tuple[dict[str, Any], bool]] = []
    seen: set[str] = set()
    for request in requests:
        rid = request.request_id
        stored = earlier.get(rid)
        if stored is not None:
            out.append((stored, True))
        else:
            out.append((answers[rid], rid in seen))
        seen.add(rid)
    return out


def _answer(
    pinned: Pinned, document: StoredDocument, request: TriggerRequest, owners: dict[Identity, str]
) -> tuple[dict[str, Any], list[MessageIntent]]:
    workspace_id = document.workspace_id
    run = f"req:{request.request_id}"
    namespace = _ADDRESS_NAMESPACE.get(pinned.channel)
    answers: list[dict[str, Any]] = []
    intents: list[MessageIntent] = []
    for index, recipient in enumerate(request.recipients):
        profile_id = owners.get(recipient.identity)
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
    answer = {
        "requestId": request.request_id,
        "campaign": {"id": document.id, "name": document.name},
        "category": pinned.spec.category.value,
        "queued": len(intents),
        "recipients": answers,
    }
    return answer, intents


def trigger_calls(
    tx: Tx,
    workspace_id: str,
    campaign: str,
    bodies: Sequence[Any],
    now: datetime,
    handoff: HandOff | None = None,
    wake: Callable[[], None] = _nothing,
) -> list[Any]:
    """Several calls to one campaign (by id or name), as `GroupCommitter` hands them:
    an (answer, replayed) pair or a Clarion error per body, in order (`trigger_many`
    tells what becomes of their messages)."""
    results: list[Any] = [None] * len(bodies)
    try:
        document = find_campaign(tx, workspace_id, campaign)
    except ClarionError as exc:
        return [exc] * len(bodies)
    parsed: list[tuple[int, TriggerRequest]] = []
    for index, body in enumerate(bodies):
        try:
            parsed.append((index, parse_trigger(body)))
        except ClarionError as exc:
            results[index] = exc
    if parsed:
        answers: list[Any]
        try:
            requests = [r for _, r in parsed]
            answers = list(trigger_many(tx, document, requests, now, handoff, wake))
        except ClarionError as exc:  # the campaign refuses triggers: before any write
            answers = [exc] * len(parsed)
        for (index, _), answer in zip(parsed, answers, strict=True):
            results[index] = answer
    return results
