"""Sending one message directly, its status, and the capture outbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import decode_cursor, encode_cursor
from clarion.api.services import Services, get_services
from clarion.delivery import enqueue
from clarion.ids import new_id
from clarion.model.consent import CHANNELS
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.messages import Category, MessageIntent, MessageSource, QueuedMessage
from clarion.model.outcomes import SourceKind
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.rules import normalise
from clarion.storage.base import CapturedMessage, Page

router = APIRouter(prefix="/v1", tags=["messages"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


def render_queued(item: QueuedMessage) -> dict[str, Any]:
    intent = item.intent
    return {
        "message_id": item.id,
        "status": item.status,
        "channel": intent.channel,
        "template": intent.template,
        "category": intent.category.value,
        "profile_id": intent.profile_id,
        "to": item.sent_to or intent.address,
        "attempts": item.attempts,
        "reason": item.reason,
        "provider": item.provider,
        "provider_message_id": item.provider_message_id,
        "source": intent.source.as_json(),
    }


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(f"{key} must be an object", field=key)
    return value


@router.post("/messages", status_code=202)
async def send_message(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Queue one message: `{"channel", "template", "to" | "profile_id" | "user_id",
    "category"?, "context"?, "event"?, "idempotency_key"?}`. A repeated idempotency key
    queues nothing new and answers the first message."""
    body = await request.json()
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    channel = body.get("channel")
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    template = body.get("template")
    if not isinstance(template, str) or not template:
        raise InvalidInput("template names a template", field="template")
    try:
        category = Category(body.get("category", "marketing"))
    except ValueError:
        raise InvalidInput("category is marketing or transactional", field="category") from None
    key = body.get("idempotency_key") or request.headers.get("idempotency-key") or new_id()
    if not isinstance(key, str) or len(key) > 200:
        raise InvalidInput(
            "idempotency_key is a string of at most 200 characters", field="idempotency_key"
        )
    context, event = _object(body, "context") or {}, _object(body, "event")

    def run() -> Any:
        with services.db.write() as tx:
            profile_id = body.get("profile_id")
            if isinstance(body.get("user_id"), str):
                identity = ("user_id", normalise("user_id", body["user_id"]))
                profile_id = tx.profiles.owners(principal.workspace_id, [identity]).get(identity)
                if profile_id is None:
                    raise NotFound("no profile with that user_id", field="user_id")
            if (
                profile_id is not None
                and tx.profiles.get(principal.workspace_id, str(profile_id)) is None
            ):
                raise NotFound(f"no profile {profile_id!r}", field="profile_id")
            address = body.get("to")
            if profile_id is None and not isinstance(address, str):
                raise InvalidInput("give a recipient: to, profile_id or user_id", field="to")
            if tx.documents.get(principal.workspace_id, "template", template) is None:
                raise NotFound(f"no template {template!r}", field="template")
            intent = MessageIntent(
                principal.workspace_id,
                str(channel),
                template,
                MessageSource(SourceKind.API, "messages", name="messages", run=key),
                profile_id=profile_id,
                address=address if isinstance(address, str) else None,
                category=category,
                context=context,
                event=event,
                subscription_group=body.get("subscription_group"),
            )
            new = enqueue(tx, [intent], services.clock.now())
        services.wake_dispatcher()
        return {"message_id": intent.message_id, "queued": bool(new)}

    return await run_in_threadpool(run)


@router.get("/messages/{message_id}")
def message_status(
    message_id: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Where a message is: pending, sending, sent, skipped (and why) or failed."""
    with services.db.read() as tx:
        item = tx.outbox.get(principal.workspace_id, message_id)
    if item is None:
        raise NotFound(f"no message {message_id!r}", field="message_id")
    return render_queued(item)


def render_captured(m: CapturedMessage) -> dict[str, Any]:
    return {
        "message_id": m.id,
        "channel": m.channel,
        "to": m.to,
        "subject": m.subject,
        "html": m.html,
        "text": m.text,
        "body": m.body,
        "fields": m.fields,
        "source": m.source,
        "profile_id": m.profile_id,
        "created_at": m.created_at,
    }


@router.get("/outbox")
def captured_outbox(
    profile: str | None = None,
    channel: str | None = None,
    source: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
    cursor: str | None = None,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Messages the capture provider kept (the default until a real provider is set)."""
    after = decode_cursor(cursor) if cursor else None
    if after is not None and not after.isdigit():
        raise InvalidInput("not a cursor this API returned", field="cursor")
    with services.db.read() as tx:
        rows = tx.captured.list(
            principal.workspace_id,
            Page(limit + 1, after),
            profile_id=profile,
            channel=channel,
            source=source,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [render_captured(m) for m in rows],
        "next": encode_cursor(str(rows[-1].seq)) if more and rows else None,
    }
