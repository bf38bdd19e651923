"""Tracking endpoints: open pixel, click redirect, unsubscribe page and one-click.

Public (recipients follow them from messages) but signed: a token that was not
made by Clarion for this workspace is refused, so none of them can be forged or
used as an open redirect. Each produces an outcome event on the log.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.services import Services, get_services
from clarion.delivery.outcomes import outcome_event
from clarion.delivery.tracking import verify, workspace_of
from clarion.model.consent import WHOLE_CHANNEL, Source, Status
from clarion.model.errors import InvalidInput
from clarion.model.messages import QueuedMessage
from clarion.model.outcomes import Outcome
from clarion.profiles.consent import address_hash
from clarion.storage.base import Tx

router = APIRouter(tags=["tracking"], include_in_schema=True)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = {"Cache-Control": "no-store, max-age=0"}


def _message(tx: Tx, token: str) -> tuple[QueuedMessage, dict[str, Any]]:
    workspace_id = workspace_of(token)
    if workspace_id is None or tx.workspaces.get(workspace_id) is None:
        raise InvalidInput("not a link Clarion made", field="token")
    payload = verify(tx.signing_key(workspace_id), token)
    if payload is None:
        raise InvalidInput("not a link Clarion made", field="token")
    item = tx.outbox.get(workspace_id, str(payload.get("m")))
    if item is None:
        raise InvalidInput("the message of this link no longer exists", field="token")
    return item, payload


def _record(services: Services, token: str, outcome: Outcome, **extra: Any) -> dict[str, Any]:
    with services.db.write() as tx:
        item, payload = _message(tx, token)
        event = outcome_event(item.intent, outcome, services.clock.now(), unique=True, **extra)
        tx.events.append(item.intent.workspace_id, [event], services.clock.now())
    services.wake_consumers()
    return payload


@router.get("/t/o/{token}.gif", include_in_schema=False)
async def opened(token: str, services: Services = Depends(get_services)) -> Response:
    """The open pixel."""
    await run_in_threadpool(_record, services, token, Outcome.OPENED)
    return Response(PIXEL, media_type="image/gif", headers=_NO_STORE)


@router.get("/t/c/{token}", include_in_schema=False)
async def clicked(token: str, services: Services = Depends(get_services)) -> Response:
    """A tracked link: records the click, then redirects to the signed destination."""
    with services.db.read() as tx:
        _item, payload = _message(tx, token)
    url = payload.get("u")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInput("not a link Clarion made", field="token")
    await run_in_threadpool(_record, services, token, Outcome.CLICKED, url=url)
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width"></head><body style="font-family:sans-serif;
max-width:32em;margin:3em auto"><h1>{title}</h1><p>{text}</p>{form}</body></html>"""


@router.get("/u/{token}", include_in_schema=False)
def unsubscribe_page(token: str, services: Services = Depends(get_services)) -> HTMLResponse:
    """A page with a button: a GET never unsubscribes (link scanners follow links)."""
    with services.db.read() as tx:
        _message(tx, token)
    form = (
        f'<form method="post" action="/u/{html.escape(token)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(
        _PAGE.format(title="Unsubscribe", text="Stop receiving these messages?", form=form),
        headers=_NO_STORE,
    )


def unsubscribe(services: Services, token: str, source: Source) -> None:
    """Record the opt-out for the profile and the address, and the outcome event."""
    now = services.clock.now()
    with services.db.write() as tx:
        item, _payload = _message(tx, token)
        intent = item.intent
        group = intent.subscription_group or _template_group(tx, item) or WHOLE_CHANNEL
        if intent.profile_id and tx.profiles.get(intent.workspace_id, intent.profile_id):
            tx.consent.set_profile_state(
                intent.workspace_id,
                intent.profile_id,
                intent.channel,
                group,
                Status.UNSUBSCRIBED,
                source.value,
                now,
            )
        address = item.sent_to or intent.address
        if address:
            tx.consent.set_address_state(
                intent.workspace_id,
                intent.channel,
                address_hash(intent.channel, address),
                None,
                group,
                Status.UNSUBSCRIBED,
                source.value,
                now,
            )
        event = outcome_event(
            intent, Outcome.UNSUBSCRIBED, now, group=group or None, via=source.value
        )
        tx.events.append(intent.workspace_id, [event], now)
    services.wake_consumers()


def _template_group(tx: Tx, item: QueuedMessage) -> str | None:
    intent = item.intent
    doc = (
        tx.documents.version(
            intent.workspace_id, "template", intent.template, intent.template_version
        )
        if intent.template_version
        else tx.documents.get(intent.workspace_id, "template", intent.template)
    )
    group = doc.spec.get("subscription_group") if doc else None
    return group if isinstance(group, str) else None


@router.post("/u/{token}", include_in_schema=False)
async def unsubscribe_post(
    token: str, request: Request, services: Services = Depends(get_services)
) -> HTMLResponse:
    """The form's button, and RFC 8058 one-click (`List-Unsubscribe=One-Click`)."""
    body = (await request.body()).decode(errors="replace")
    one_click = "List-Unsubscribe=One-Click" in body
    await run_in_threadpool(
        unsubscribe, services, token, Source.ONE_CLICK if one_click else Source.UNSUBSCRIBE_LINK
    )
    return HTMLResponse(
        _PAGE.format(
            title="Unsubscribed", text="You will not receive these messages again.", form=""
        ),
        headers=_NO_STORE,
    )
