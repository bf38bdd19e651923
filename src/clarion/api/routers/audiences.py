"""Audiences: definitions, status and counts, members, previews, uploaded lists."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.routers.profiles import render_profile
from clarion.api.routers.templates import find_document
from clarion.api.services import Services, get_services
from clarion.audiences.copy import DuckDbCopy
from clarion.audiences.kind import TxResolver
from clarion.clock import to_micros
from clarion.documents import apply_documents, delete_document
from clarion.model.audience import InvalidAudience, parse_audience, parse_definition
from clarion.model.documents import Ref, StoredDocument
from clarion.model.errors import Conflict, InvalidInput
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.rules import normalise
from clarion.storage.base import Page, Tx

router = APIRouter(prefix="/v1/audiences", tags=["audiences"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)
SAMPLE = 20
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def render_audience(tx: Tx, doc: StoredDocument) -> dict[str, Any]:
    status = tx.audiences.status(doc.workspace_id, doc.name)
    return {
        "id": doc.id,
        "name": doc.name,
        "version": doc.version,
        "type": doc.spec.get("type", "dynamic"),
        "description": doc.spec.get("description", ""),
        "definition": doc.spec.get("definition"),
        "status": status.status if status else "ready",
        "count": status.count if status else tx.audiences.count(doc.workspace_id, doc.name),
        "changed_at": status.changed_at if status else doc.updated_at,
    }


async def _body(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    return body


@router.post("", status_code=201)
async def create_audience(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """`{"name", "definition": {...}}` (or `"type": "list"`); backfilled in the background."""
    body = {**(await _body(request)), "kind": "audience"}

    def run() -> Any:
        with services.db.write() as tx:
            if tx.documents.get(principal.workspace_id, "audience", str(body.get("name"))):
                raise Conflict(f"an audience named {body.get('name')!r} exists", field="name")
            apply_documents(
                tx, services.kinds, principal.workspace_id, [body], services.clock.now()
            )
            return render_audience(
                tx, find_document(tx, principal.workspace_id, "audience", str(body["name"]))
            )

    return await run_in_threadpool(run)


@router.get("")
def list_audiences(
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        rows = tx.documents.list(principal.workspace_id, "audience", page)
        return paged(rows, page, lambda d: render_audience(tx, d), lambda d: d.id)


@router.post("/preview")
async def preview(
    request: Request,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """An unsaved definition's exact count and a sample of up to 20 members, by SQL on the
    store or, with `?engine=duckdb`, on the DuckDB copy (the answer says how fresh it is)."""
    body = await _body(request)
    try:
        definition = parse_definition(body.get("definition"))
    except InvalidAudience as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    engine = request.query_params.get("engine", "sql")
    copy = services.extras.get("audience_copy")
    if engine not in ("sql", "duckdb"):
        raise InvalidInput("engine is sql (the store) or duckdb (the copy)", field="engine")
    if engine == "duckdb" and not isinstance(copy, DuckDbCopy):
        raise Conflict("no DuckDB copy is kept: set CLARION_DUCKDB_COPY", field="engine")

    def run() -> Any:
        now = services.clock.now()
        with services.db.read() as tx:
            resolver = TxResolver(tx, principal.workspace_id)
            freshness: dict[str, Any] = {"source": "store", "current": True}
            if isinstance(copy, DuckDbCopy) and engine == "duckdb":
                members, fresh = copy.members(definition, principal.workspace_id, now, resolver)
                freshness = fresh.as_json()
            else:
                members = tx.audience_members(principal.workspace_id, definition, now, resolver)
            sample = tx.profiles.load(principal.workspace_id, members[:SAMPLE])
        return {
            "count": len(members),
            "sample": [render_profile(sample[p]) for p in members[:SAMPLE] if p in sample],
            "engine": engine,
            "freshness": freshness,
        }

    return await run_in_threadpool(run)


@router.get("/{audience}")
def get_audience(
    audience: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        return render_audience(tx, find_document(tx, principal.workspace_id, "audience", audience))


@router.put("/{audience}")
async def put_audience(
    audience: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Change the definition (a new version, backfilled again)."""
    body = await _body(request)

    def run() -> Any:
        with services.db.write() as tx:
            doc = find_document(tx, principal.workspace_id, "audience", audience)
            apply_documents(
                tx,
                services.kinds,
                principal.workspace_id,
                [{**body, "kind": "audience", "name": doc.name}],
                services.clock.now(),
            )
            return render_audience(
                tx, find_document(tx, principal.workspace_id, "audience", doc.name)
            )

    return await run_in_threadpool(run)


@router.delete("/{audience}", status_code=204)
def delete_audience(
    audience: str,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Response:
    """Delete an audience; 409 while journeys, campaigns or audiences use it."""
    with services.db.write() as tx:
        doc = find_document(tx, principal.workspace_id, "audience", audience)
        delete_document(tx, services.kinds, principal.workspace_id, Ref("audience", doc.name))
    return Response(status_code=204)


@router.get("/{audience}/members")
def members(
    audience: str,
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """The current members (profile ids, with their profiles), paged."""
    with services.db.read() as tx:
        doc = find_document(tx, principal.workspace_id, "audience", audience)
        ids = tx.audiences.members(principal.workspace_id, doc.name, page)
        profiles = tx.profiles.load(principal.workspace_id, ids)
    return paged(
        ids,
        page,
        lambda p: render_profile(profiles[p]) if p in profiles else {"id": p},
        lambda p: p,
    )


@router.post("/{audience}/upload")
async def upload(
    audience: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """A CSV list for a static (`type: list`) audience: a header naming an identity
    namespace (`email`, `user_id`, `phone`, ...); rows name members. `?mode=append` adds,
    the default replaces. Unknown identities are counted, not fatal."""
    raw = await request.body()
    if len(raw) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"the file is over {MAX_UPLOAD_BYTES} bytes", field="body")
    mode = request.query_params.get("mode", "replace")

    def run() -> Any:
        with services.db.write() as tx:
            doc = find_document(tx, principal.workspace_id, "audience", audience)
            if parse_audience(doc.spec).type != "list":
                raise Conflict("only list audiences take uploads", field="type")
            if mode not in ("replace", "append"):
                raise InvalidInput("mode is replace or append", field="mode")
            try:
                reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
                rows = list(reader)
            except (UnicodeDecodeError, csv.Error) as exc:
                raise InvalidInput(f"not a UTF-8 CSV file: {exc}", field="body") from exc
            columns = [c for c in reader.fieldnames or [] if c]
            if not columns:
                raise InvalidInput("the first line names an identity namespace", field="header")
            wanted = [(c, normalise(c, r[c])) for r in rows for c in columns if r.get(c)]
            owners = tx.profiles.owners(principal.workspace_id, wanted)
            found = sorted(set(owners.values()))
            now = services.clock.now()
            if mode == "replace":
                stored = tx.audiences.all_members(principal.workspace_id, doc.name)
                tx.audiences.remove(principal.workspace_id, doc.name, sorted(stored - set(found)))

            tx.audiences.add(principal.workspace_id, doc.name, found, to_micros(now))
            count = tx.audiences.count(principal.workspace_id, doc.name)
            tx.audiences.set_status(
                principal.workspace_id, doc.name, "ready", doc.version, count, now
            )
        return {
            "rows": len(rows),
            "matched": len(found),
            "unknown": len(rows) - len({i for i in wanted if i in owners}),
            "count": count,
        }

    return await run_in_threadpool(run)
