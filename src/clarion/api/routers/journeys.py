"""Journeys: documents, lifecycle, statistics, API entries, and where a profile is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.routers.documents import render_document
from clarion.api.routers.profiles import find_profile
from clarion.api.routers.templates import find_document
from clarion.api.services import Services, get_services
from clarion.audiences.kind import TxResolver
from clarion.audiences.memory import ProfileView
from clarion.clock import from_micros, to_micros
from clarion.documents import apply_documents
from clarion.journeys import lifecycle
from clarion.journeys.dry_run import dry_run
from clarion.journeys.engine import JourneyEngine
from clarion.journeys.state import Instance
from clarion.journeys.validate import parse
from clarion.model.documents import StoredDocument
from clarion.model.errors import Conflict, InvalidInput, NotFound
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.rules import normalise
from clarion.storage.base import Page, Tx

router = APIRouter(prefix="/v1", tags=["journeys"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


def render_journey(tx: Tx, doc: StoredDocument) -> dict[str, Any]:
    state = tx.journeys.state(doc.workspace_id, doc.name)
    return {
        **render_document(doc),
        "status": state.status if state else "draft",
        "live_version": state.live_version if state else None,
    }


async def _body(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    return body


@router.post("/journeys", status_code=201)
async def create_journey(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Create a journey (a draft) from its document; invalid graphs answer 400 by node id."""
    body = {**(await _body(request)), "kind": "journey"}

    def run() -> Any:
        with services.db.write() as tx:
            if tx.documents.get(principal.workspace_id, "journey", str(body.get("name"))):
                raise Conflict(f"a journey named {body.get('name')!r} exists", field="name")
            apply_documents(
                tx, services.kinds, principal.workspace_id, [body], services.clock.now()
            )
            return render_journey(
                tx, find_document(tx, principal.workspace_id, "journey", str(body["name"]))
            )

    return await run_in_threadpool(run)


@router.get("/journeys")
def list_journeys(
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        rows = tx.documents.list(principal.workspace_id, "journey", page)
        return paged(rows, page, lambda d: render_journey(tx, d), lambda d: d.id)


@router.get("/journeys/{journey}")
def get_journey(
    journey: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        return render_journey(tx, find_document(tx, principal.workspace_id, "journey", journey))


@router.put("/journeys/{journey}")
async def put_journey(
    journey: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Change the journey's document (a new version; the live one stays until published)."""
    body = await _body(request)

    def run() -> Any:
        with services.db.write() as tx:
            doc = find_document(tx, principal.workspace_id, "journey", journey)
            apply_documents(
                tx,
                services.kinds,
                principal.workspace_id,
                [{**body, "kind": "journey", "name": doc.name}],
                services.clock.now(),
            )
            return render_journey(
                tx, find_document(tx, principal.workspace_id, "journey", doc.name)
            )

    return await run_in_threadpool(run)


@router.get("/journeys/{journey}/versions")
def journey_versions(
    journey: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        doc = find_document(tx, principal.workspace_id, "journey", journey)
        found = [
            tx.documents.version(principal.workspace_id, "journey", doc.name, v)
            for v in range(doc.version, 0, -1)
        ]
    return {"items": [render_document(v) for v in found if v], "next": None}


def _lifecycle(action: str) -> Any:
    def endpoint(
        journey: str,
        principal: Principal = Depends(editor),
        services: Services = Depends(get_services),
    ) -> Any:
        with services.db.write() as tx:
            name = find_document(tx, principal.workspace_id, "journey", journey).name
            result = getattr(lifecycle, action)(
                tx, principal.workspace_id, name, services.clock.now()
            )
        services.wake_dispatcher()
        return result

    endpoint.__name__ = f"{action}_journey"
    endpoint.__doc__ = f"{action.capitalize()} the journey."
    return endpoint


for _action in ("publish", "pause", "resume", "stop", "close"):
    router.add_api_route(
        f"/journeys/{{journey}}/{_action}",
        _lifecycle(_action),
        methods=["POST"],
        summary=f"{_action} a journey",
    )


@router.get("/journeys/{journey}/stats")
def journey_stats(
    journey: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    """Per node: entered, waiting, passed (went on), exited (left the journey there),
    completed, and per branch; all versions summed."""
    with services.db.read() as tx:
        name = find_document(tx, principal.workspace_id, "journey", journey).name
        nodes: dict[str, dict[str, Any]] = {}
        for _version, node, counter, value in tx.journeys.stats(principal.workspace_id, name):
            entry = nodes.setdefault(node, {"entered": 0, "waiting": 0, "exited": 0})
            if counter.startswith("branch:"):
                entry.setdefault("branches", {})
                entry["branches"][counter[7:]] = entry["branches"].get(counter[7:], 0) + value
            else:
                entry[counter] = entry.get(counter, 0) + value
        for (_version, node), count in tx.journeys.waiting_counts(
            principal.workspace_id, name
        ).items():
            nodes.setdefault(node, {"entered": 0, "waiting": 0, "exited": 0})
            nodes[node]["waiting"] += count
    return {"journey": name, "nodes": nodes}


@router.post("/journeys/{journey}/entries", status_code=202)
async def api_entry(
    journey: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Enter a profile (`profile_id` or `user_id`) with an optional `context`."""
    body = await _body(request)

    def run() -> Any:
        now = services.clock.now()
        with services.db.write() as tx:
            doc = find_document(tx, principal.workspace_id, "journey", journey)
            if doc.spec.get("entry", {}).get("type") != "api":
                raise Conflict("this journey is not entered through the API", field="entry")
            profile_id = body.get("profile_id")
            if isinstance(body.get("user_id"), str):
                key = ("user_id", normalise("user_id", body["user_id"]))
                profile_id = tx.profiles.owners(principal.workspace_id, [key]).get(key)
            if (
                not isinstance(profile_id, str)
                or tx.profiles.get(principal.workspace_id, profile_id) is None
            ):
                raise NotFound("no such profile", field="profile_id")
            context = body.get("context") or {}
            if not isinstance(context, dict):
                raise InvalidInput("context is an object", field="context")
            engine = JourneyEngine(tx, principal.workspace_id, now)
            instance = engine.enter(doc.name, profile_id, None, context)
            engine.flush()
        services.wake_dispatcher()
        return {"entered": instance is not None, "instance_id": instance.id if instance else None}

    return await run_in_threadpool(run)


def _dry_run_request(body: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    ids = body.get("profiles")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InvalidInput("profiles is a list of test profile ids", field="profiles")
    events = body.get("events") or []
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise InvalidInput("events is a list of events", field="events")
    return ids, events


@router.post("/journeys/{journey}/test")
async def dry_run_journey(
    journey: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Dry run of the latest version (a draft is fine) for test profiles:
    `{"profiles": [ids], "entry_event"?: {...}, "events"?: [{...}]}`. Waits are skipped,
    nothing is sent or stored."""
    body = await _body(request)

    def run() -> Any:
        now_us = to_micros(services.clock.now())
        with services.db.read() as tx:
            doc = find_document(tx, principal.workspace_id, "journey", journey)
            ids, events = _dry_run_request(body)
            spec, problems = parse(doc.spec)
            if spec is None:
                raise InvalidInput(problems[0].message, field=problems[0].path)
            catalog_resolver = TxResolver(tx, principal.workspace_id)
            results = []
            for profile_id in ids:
                record = find_profile(tx, principal.workspace_id, profile_id)
                if not record.is_test:
                    raise Conflict(f"{profile_id} is not a test profile", field="profiles")
                view = ProfileView(
                    record.id, record.traits, sorted(record.identities), timezone=record.timezone
                )
                results.append(
                    dry_run(
                        spec, view, now_us, catalog_resolver, body.get("entry_event"), list(events)
                    )
                )
        return {"journey": doc.name, "version": doc.version, "results": results}

    return await run_in_threadpool(run)


def render_instance(instance: Instance) -> dict[str, Any]:
    return {
        "instance_id": instance.id,
        "journey": instance.journey,
        "version": instance.version,
        "status": instance.status,
        "node": instance.node,
        "exit_reason": instance.exit_reason,
        "entered_at": from_micros(instance.entered_us),
        "waiting": (
            {
                "kind": instance.waiting.kind,
                "until": from_micros(instance.waiting.due_us) if instance.waiting.due_us else None,
            }
            if instance.waiting
            else None
        ),
        "history": [
            {"node": n, "at": from_micros(at), "note": note} for n, at, note in instance.history
        ],
    }


@router.get("/profiles/{profile_id}/journeys")
def profile_journeys(
    profile_id: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Where the profile is in each journey, and the path it took."""
    with services.db.read() as tx:
        record = find_profile(tx, principal.workspace_id, profile_id)
        states = tx.journeys.instances_of(principal.workspace_id, record.id, active=False)
    return {"items": [render_instance(Instance.from_json(s)) for s in states], "next": None}
