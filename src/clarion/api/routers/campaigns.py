"""Campaigns: documents, lifecycle, runs, reports, test sends and API triggers.

Paths take a campaign's id or its name.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import bearer_scheme, require
from clarion.api.pagination import page_params, paged
from clarion.api.responses import OrjsonResponse
from clarion.api.routers.campaign_trigger import json_body, serve_trigger
from clarion.api.services import Services, get_services
from clarion.campaigns import (
    RunNotFound,
    activate,
    campaign_report,
    find_campaign,
    render_run,
    run_now,
    send_proofs,
    state_of,
    stop,
)
from clarion.documents import apply_documents
from clarion.model.documents import StoredDocument
from clarion.model.errors import InvalidInput
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.storage.base import Page, Tx

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


TRIGGER_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["requestId", "recipients"],
                "properties": {
                    "requestId": {"type": "string", "minLength": 1, "maxLength": 200},
                    "recipients": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1000,
                        "items": {
                            "type": "object",
                            "description": "exactly one of userId, email, phone or identity "
                            "('namespace:value' or {namespace, value}); context and profile "
                            "(inline traits) are optional objects",
                        },
                    },
                    "context": {"type": "object"},
                },
            }
        }
    },
}


async def _object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    return body


def _wake(services: Services) -> None:
    wake = services.extras.get("wake_campaigns")
    if callable(wake):
        wake()


def render_campaign(tx: Tx, doc: StoredDocument) -> dict[str, Any]:
    state = state_of(tx, doc)
    return {
        "id": doc.id,
        "name": doc.name,
        "type": state.type,
        "status": state.status,
        "version": doc.version,
        "active_version": state.version,
        "spec": doc.spec,
        "next_run_at": state.next_occurrence.get("fire_at") if state.next_occurrence else None,
        "activated_at": state.activated_at,
        "stopped_at": state.stopped_at,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


@router.post("")
async def put_campaign(
    request: Request,
    response: Response,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Create or update a campaign document (the same as `kind: campaign` in /v1/apply)."""
    body = {**(await _object(request)), "kind": "campaign"}

    def run() -> Any:
        with services.db.write() as tx:
            (result,) = apply_documents(
                tx, services.kinds, principal.workspace_id, [body], services.clock.now()
            )
            doc = find_campaign(tx, principal.workspace_id, result.id)
            return result.action, render_campaign(tx, doc)

    action, rendered = await run_in_threadpool(run)
    response.status_code = 201 if action == "created" else 200
    return rendered


@router.get("")
def list_campaigns(
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """The workspace's campaigns with their status."""
    with services.db.read() as tx:
        docs = tx.documents.list(principal.workspace_id, "campaign", page)
        return paged(docs, page, lambda d: render_campaign(tx, d), lambda d: d.id)


@router.get("/{campaign}")
def get_campaign(
    campaign: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        return render_campaign(tx, find_campaign(tx, principal.workspace_id, campaign))


@router.post("/{campaign}/activate")
def activate_campaign(
    campaign: str,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Pin the current version and schedule it (or send now, without a schedule)."""
    with services.db.write() as tx:
        doc = find_campaign(tx, principal.workspace_id, campaign)
        activate(tx, doc, services.clock.now())
        rendered = render_campaign(tx, doc)
    _wake(services)
    return rendered


@router.post("/{campaign}/stop")
def stop_campaign(
    campaign: str,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Stop the schedule and the runs in progress."""
    with services.db.write() as tx:
        doc = find_campaign(tx, principal.workspace_id, campaign)
        stop(tx, doc, services.clock.now())
        return render_campaign(tx, doc)


@router.post("/{campaign}/test")
async def send_test(
    campaign: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Send the campaign's message to test profiles: `{"profiles": [...], "context"?}`."""
    body = await _object(request)
    profiles = body.get("profiles")
    if profiles is not None and (
        not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles)
    ):
        raise InvalidInput("profiles is a list of profile ids or identities", field="profiles")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise InvalidInput("context must be an object", field="context")

    def run() -> Any:
        with services.db.write() as tx:
            doc = find_campaign(tx, principal.workspace_id, campaign)
            return send_proofs(tx, doc, profiles, context, services.clock.now())

    answer = await run_in_threadpool(run)
    services.wake_dispatcher()
    return answer


@router.post("/{campaign}/runs", status_code=201)
def start_run(
    campaign: str,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Run an action campaign now (`clarion campaigns run`)."""
    with services.db.write() as tx:
        doc = find_campaign(tx, principal.workspace_id, campaign)
        run = run_now(tx, doc, services.clock.now())
        rendered = render_run(tx, run, counts=False)
    _wake(services)
    return rendered


@router.get("/{campaign}/runs")
def list_runs(
    campaign: str,
    limit: int = Query(20, ge=1, le=100),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """The campaign's runs, newest first, with their counts."""
    with services.db.read() as tx:
        doc = find_campaign(tx, principal.workspace_id, campaign)
        runs = tx.campaigns.runs(principal.workspace_id, doc.id, limit)
        return {"items": [render_run(tx, r) for r in runs]}


@router.get("/{campaign}/runs/{run_id}")
def get_run(
    campaign: str,
    run_id: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        doc = find_campaign(tx, principal.workspace_id, campaign)
        run = tx.campaigns.run(principal.workspace_id, run_id)
        if run is None or run.campaign_id != doc.id:
            raise RunNotFound(f"no run {run_id!r} of campaign {doc.name!r}", field="run_id")
        return render_run(tx, run)


@router.get("/{campaign}/report")
def report(
    campaign: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Totals and per-run counts: targeted, excluded, sent, skipped by reason, failed,
    delivered, opened, clicked."""
    with services.db.read() as tx:
        doc = find_campaign(tx, principal.workspace_id, campaign)
        state = state_of(tx, doc)
        return {
            "campaign": {"id": doc.id, "name": doc.name, "type": state.type},
            "status": state.status,
            **campaign_report(tx, principal.workspace_id, doc.id, state.type),
        }


@router.post(
    "/{campaign}/trigger",
    status_code=202,
    response_class=OrjsonResponse,
    openapi_extra={"requestBody": TRIGGER_BODY},
)
async def trigger_campaign(
    campaign: str, request: Request, _bearer: object = Depends(bearer_scheme)
) -> OrjsonResponse:
    """Send an API campaign's message to up to 1,000 recipients, idempotent on `requestId`:
    a retried call sends nothing new and answers as the first did.

    (The OpenAPI description of `campaign_trigger.serve_trigger`, which answers these
    requests: it needs a secret key with the editor role.)"""
    return await serve_trigger(request)
