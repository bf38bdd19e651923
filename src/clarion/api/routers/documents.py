"""Definitions as code: `POST /v1/apply` and the generic document endpoints."""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.services import Services, get_services
from clarion.documents import apply_documents, delete_document
from clarion.documents.yaml_loader import load_documents
from clarion.model.documents import Ref, StoredDocument
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.storage.base import Page

router = APIRouter(prefix="/v1", tags=["documents"])

_APPLY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "object"}},
                        {"type": "object", "properties": {"documents": {"type": "array"}}},
                    ]
                }
            },
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


def parse_documents(body: bytes, content_type: str) -> list[Any]:
    """Documents from a JSON array, `{"documents": [...]}`, or multi-document YAML."""
    try:
        if "yaml" in content_type:
            return load_documents(body)
        data = orjson.loads(body)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"the body does not parse: {exc}", field="body") from exc
    if isinstance(data, dict) and isinstance(data.get("documents"), list):
        return list(data["documents"])
    if isinstance(data, dict) and "kind" in data:
        return [data]
    if isinstance(data, list):
        return data
    raise InvalidInput("expected a list of documents", field="documents")


def render_document(doc: StoredDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "kind": doc.kind,
        "name": doc.name,
        "version": doc.version,
        "spec": doc.spec,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


@router.post("/apply", openapi_extra=_APPLY_BODY)
async def apply(
    request: Request,
    dry_run: bool = False,
    principal: Principal = Depends(require(Role.EDITOR)),
    services: Services = Depends(get_services),
) -> Any:
    """Validate every document, then apply all of them in one transaction, or none."""
    documents = parse_documents(await request.body(), request.headers.get("content-type", ""))
    if not documents:
        raise InvalidInput("no documents given", field="documents")

    def run() -> list[dict[str, Any]]:
        with services.db.write() as tx:
            results = apply_documents(
                tx,
                services.kinds,
                principal.workspace_id,
                documents,
                services.clock.now(),
                dry_run=dry_run,
            )
        return [r.as_json() for r in results]

    return {"results": await run_in_threadpool(run), "dry_run": dry_run}


@router.get("/documents")
def list_documents(
    kind: str | None = None,
    page: Page = Depends(page_params),
    principal: Principal = Depends(require(Role.VIEWER)),
    services: Services = Depends(get_services),
) -> Any:
    """Applied documents of the workspace, optionally of one kind."""
    with services.db.read() as tx:
        rows = tx.documents.list(principal.workspace_id, kind, page)
    return paged(rows, page, render_document, lambda d: d.id)


@router.get("/documents/{kind}/{name}")
def get_document(
    kind: str,
    name: str,
    principal: Principal = Depends(require(Role.VIEWER)),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        doc = tx.documents.get(principal.workspace_id, kind, name)
        referrers = tx.documents.referrers(principal.workspace_id, Ref(kind, name))
    if doc is None:
        raise NotFound(f"no {kind} named {name!r}")
    return {**render_document(doc), "referenced_by": [str(r) for r in referrers]}


@router.delete("/documents/{kind}/{name}", status_code=204)
def remove_document(
    kind: str,
    name: str,
    principal: Principal = Depends(require(Role.EDITOR)),
    services: Services = Depends(get_services),
) -> Response:
    """Delete a document; 409 with the referrers while anything refers to it."""
    with services.db.write() as tx:
        delete_document(tx, services.kinds, principal.workspace_id, Ref(kind, name))
    return Response(status_code=204)
