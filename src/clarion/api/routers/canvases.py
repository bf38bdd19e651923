"""Orchestrated campaigns: the schema, canvases, calculate, run, runs, code view.

Paths take a canvas's id or its name.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.services import Services, get_services
from clarion.documents import apply_documents
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.orchestrated import CanvasService, find_canvas, render_run
from clarion.storage.base import Page

router = APIRouter(prefix="/v1", tags=["orchestrated"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


def canvas_service(services: Services) -> CanvasService:
    """The app's canvas service."""
    found = services.extras.get("canvases")
    assert isinstance(found, CanvasService)
    return found


async def _object(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        data = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise InvalidInput("send a JSON object", field="body")
    return data


def _apply(services: Services, workspace_id: str, body: dict[str, Any]) -> tuple[str, Any]:
    with services.db.write() as tx:
        (result,) = apply_documents(tx, services.kinds, workspace_id, [body], services.clock.now())
        doc = tx.documents.get(workspace_id, result.kind, result.name)
    assert doc is not None
    rendered = {"id": doc.id, "name": doc.name, "version": doc.version, "spec": doc.spec}
    return result.action, rendered


@router.post("/schema")
async def put_schema(
    request: Request,
    response: Response,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Declare the relational schema (the same as `kind: schema` in /v1/apply)."""
    body = {**(await _object(request)), "kind": "schema"}
    action, rendered = await run_in_threadpool(_apply, services, principal.workspace_id, body)
    response.status_code = 201 if action == "created" else 200
    return rendered


@router.get("/schema")
def get_schema(
    principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    """The workspace's relational schema."""
    with services.db.read() as tx:
        doc = tx.documents.get(principal.workspace_id, "schema", "default")
    if doc is None:
        raise NotFound("no schema yet: POST /v1/schema or apply `kind: schema`")
    return {"id": doc.id, "version": doc.version, "spec": doc.spec}


@router.post("/canvases")
async def put_canvas(
    request: Request,
    response: Response,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Create or update a canvas (the same as `kind: canvas` in /v1/apply)."""
    body = {**(await _object(request)), "kind": "canvas"}
    action, rendered = await run_in_threadpool(_apply, services, principal.workspace_id, body)
    response.status_code = 201 if action == "created" else 200
    return rendered


@router.get("/canvases")
def list_canvases(
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """The workspace's canvases."""
    with services.db.read() as tx:
        docs = tx.documents.list(principal.workspace_id, "canvas", page)
    return paged(
        docs, page, lambda d: {"id": d.id, "name": d.name, "version": d.version}, lambda d: d.id
    )


@router.get("/canvases/{canvas}")
def get_canvas(
    canvas: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        doc, _spec = find_canvas(tx, principal.workspace_id, canvas)
    return {"id": doc.id, "name": doc.name, "version": doc.version, "spec": doc.spec}


@router.post("/canvases/{canvas}/calculate")
async def calculate(
    canvas: str, principal: Principal = Depends(editor), services: Services = Depends(get_services)
) -> Any:
    """Exact counts on every transition, eligible recipients and previews; nothing is sent."""
    return await run_in_threadpool(
        canvas_service(services).calculate, principal.workspace_id, canvas
    )


@router.post("/canvases/{canvas}/run", status_code=202)
async def run_canvas(
    canvas: str,
    wait: bool = False,
    reuse: bool = True,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Start a run (`wait=true`: return when everything is queued)."""
    service = canvas_service(services)

    def start() -> Any:
        run = service.start_run(principal.workspace_id, canvas, reuse=reuse)
        if wait:
            service.drain()
            run = service.run(principal.workspace_id, run.id)
        else:
            wake = services.extras.get("wake_canvases")
            if callable(wake):
                wake()
        return render_run(run)

    return await run_in_threadpool(start)


@router.get("/canvases/{canvas}/runs")
def list_runs(
    canvas: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    """The canvas's runs and calculations, newest first."""
    runs = canvas_service(services).runs(principal.workspace_id, canvas)
    return {"items": [render_run(r) for r in runs]}


@router.get("/canvases/{canvas}/runs/{run_id}")
def get_run(
    canvas: str,
    run_id: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    service = canvas_service(services)
    found = service.run(principal.workspace_id, run_id)
    with services.db.read() as tx:
        doc, _spec = find_canvas(tx, principal.workspace_id, canvas)
    if found.canvas_id != doc.id:
        raise NotFound(f"no run {run_id!r} of canvas {canvas!r}")
    return render_run(found)


@router.get("/canvases/{canvas}/sql")
async def canvas_sql(
    canvas: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    """Code view: the SQL of each activity's working set, with its bound parameters."""
    return await run_in_threadpool(canvas_service(services).sql, principal.workspace_id, canvas)
