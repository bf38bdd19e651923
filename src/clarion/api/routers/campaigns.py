"""Campaigns: documents, lifecycle, runs, reports, test sends and API triggers.

Paths take a campaign's id or its name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
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
    trigger_calls,
)
from clarion.campaigns.batching import GroupCommitter
from clarion.documents import apply_documents
from clarion.model.documents import StoredDocument
from clarion.model.errors import InvalidInput
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.storage.base import Page, Tx

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


async def _json(request: Request) -> Any:
    body = await request.body()
    if not body:
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}", field="body") from exc


async def _object(request: Request) -> dict[str, Any]:
    body = await _json(request)
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


@router.post("/{campaign}/trigger", status_code=202)
async def trigger_campaign(
    campaign: str,
    request: Request,
    response: Response,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Send an API campaign's message to up to 1,000 recipients, idempotent on `requestId`:
    a retried call sends nothing new and answers as the first did."""
    body = await _json(request)
    key = (principal.workspace_id, campaign)
    answer, replayed = await asyncio.wrap_future(_committer(services).submit(key, body))
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer


def _committer(services: Services) -> GroupCommitter:
    """Trigger calls share commits and statements (one group of concurrent calls at a
    time), and each commit wakes the dispatcher at once: the provider call follows."""
    found = services.extras.get("campaign_triggers")
    if not isinstance(found, GroupCommitter):

        def handle(tx: Tx, key: Any, bodies: Sequence[Any]) -> list[Any]:
            workspace_id, ref = key
            return trigger_calls(tx, workspace_id, ref, bodies, services.clock.now())

        found = GroupCommitter(services.db, handle, after_commit=lambda: services.wake_dispatcher())
        services.extras["campaign_triggers"] = found
    return found
