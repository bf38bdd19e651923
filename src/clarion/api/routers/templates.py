"""Templates: create, read, update, delete, versions, and a rendered preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from liquid.exceptions import LiquidError
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.routers.documents import render_document
from clarion.api.routers.profiles import find_profile
from clarion.api.services import Services, get_services
from clarion.channels.sms_encoding import sms_info
from clarion.delivery.pipeline.candidate import Candidate
from clarion.delivery.render import variables
from clarion.delivery.templates import TemplateError
from clarion.delivery.tracking import Links
from clarion.documents import apply_documents, delete_document
from clarion.model.documents import Ref, StoredDocument
from clarion.model.errors import Conflict, InvalidInput, NotFound
from clarion.model.messages import MessageIntent, MessageSource, QueuedMessage
from clarion.model.outcomes import SourceKind
from clarion.model.profiles import ProfileRecord
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.storage.base import Page, Tx

router = APIRouter(prefix="/v1/templates", tags=["templates"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


def find_document(tx: Tx, workspace_id: str, kind: str, ref: str) -> StoredDocument:
    """A document by id or by name."""
    doc = tx.documents.get_by_id(workspace_id, ref) or tx.documents.get(workspace_id, kind, ref)
    if doc is None or doc.kind != kind:
        raise NotFound(f"no {kind} {ref!r}")
    return doc


async def _body(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    return body


@router.post("", status_code=201)
async def create_template(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Create a template (checked now: Liquid, fragments, required fields)."""
    body = {**(await _body(request)), "kind": "template"}

    def run() -> Any:
        with services.db.write() as tx:
            if tx.documents.get(principal.workspace_id, "template", str(body.get("name"))):
                raise Conflict(f"a template named {body.get('name')!r} exists", field="name")
            apply_documents(
                tx, services.kinds, principal.workspace_id, [body], services.clock.now()
            )
            return render_document(
                find_document(tx, principal.workspace_id, "template", str(body["name"]))
            )

    return await run_in_threadpool(run)


@router.get("")
def list_templates(
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        rows = tx.documents.list(principal.workspace_id, "template", page)
    return paged(rows, page, render_document, lambda d: d.id)


@router.get("/{template}")
def get_template(
    template: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        return render_document(find_document(tx, principal.workspace_id, "template", template))


@router.put("/{template}")
async def put_template(
    template: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Replace a template's spec: a new version if anything changed."""
    body = await _body(request)

    def run() -> Any:
        with services.db.write() as tx:
            current = find_document(tx, principal.workspace_id, "template", template)
            document = {**body, "kind": "template", "name": current.name}
            apply_documents(
                tx, services.kinds, principal.workspace_id, [document], services.clock.now()
            )
            return render_document(
                find_document(tx, principal.workspace_id, "template", current.name)
            )

    return await run_in_threadpool(run)


@router.delete("/{template}", status_code=204)
def delete_template(
    template: str,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Response:
    with services.db.write() as tx:
        doc = find_document(tx, principal.workspace_id, "template", template)
        delete_document(tx, services.kinds, principal.workspace_id, Ref("template", doc.name))
    return Response(status_code=204)


@router.get("/{template}/versions")
def template_versions(
    template: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        doc = find_document(tx, principal.workspace_id, "template", template)
        versions = [
            tx.documents.version(principal.workspace_id, "template", doc.name, v)
            for v in range(doc.version, 0, -1)
        ]
    return {"items": [render_document(v) for v in versions if v is not None], "next": None}


@router.post("/{template}/render")
async def render_preview(
    template: str,
    request: Request,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Preview: `{"profile_id"} or {"profile": {traits}}`, optional `event`, `context`, `row`,
    `version`; answers the rendered fields."""
    body = await _body(request)

    def run() -> Any:
        with services.db.read() as tx:
            doc = find_document(tx, principal.workspace_id, "template", template)
            version = body.get("version")
            if version is not None and not isinstance(version, int):
                raise InvalidInput("version is an integer", field="version")
            compiled = services.templates.get(tx, principal.workspace_id, doc.name, version)
            profile = None
            if isinstance(body.get("profile_id"), str):
                profile = find_profile(tx, principal.workspace_id, body["profile_id"])
            elif isinstance(body.get("profile"), dict):
                traits = body["profile"]
                profile = ProfileRecord(
                    "preview",
                    principal.workspace_id,
                    dict(traits),
                    {},
                    services.clock.now(),
                    services.clock.now(),
                )
            key = tx.signing_key(principal.workspace_id)
        source = MessageSource(SourceKind.TEST, "preview", run="preview")
        intent = MessageIntent(
            principal.workspace_id,
            compiled.channel,
            doc.name,
            source,
            profile_id=profile.id if profile else None,
            context=dict(body["context"]) if isinstance(body.get("context"), dict) else {},
            event=body.get("event") if isinstance(body.get("event"), dict) else None,
            row=body.get("row") if isinstance(body.get("row"), dict) else None,
        )
        candidate = Candidate(QueuedMessage(intent, "preview", 0, 0), compiled, profile)
        links = Links(services.settings.base_url, key, principal.workspace_id, intent.message_id)
        try:
            fields = compiled.render(variables(candidate, links))
        except (LiquidError, TemplateError) as exc:
            raise InvalidInput(f"the template does not render: {exc}", field="template") from exc
        if compiled.channel == "sms":
            info = sms_info(str(fields.get("body", "")))
            fields.update(encoding=info.encoding, segments=info.segments)
        return {**fields, "version": compiled.version, "channel": compiled.channel}

    return await run_in_threadpool(run)
