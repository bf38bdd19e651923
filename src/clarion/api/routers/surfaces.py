"""Inbound surfaces: eligible content per profile, and card state.

`GET /v1/surfaces/{surface}?profile=anonymous_id:abc` (write key) or
`?profile=user_id:42` with `X-Clarion-Identity-Token` (write key), or any
identity with a secret key. `POST /v1/surfaces/cards/{id}/read|click|dismiss`
records an impression, click or dismissal under the same rules.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import Response as PlainResponse
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from clarion.api.auth import require, unauthorized
from clarion.api.responses import OrjsonResponse
from clarion.api.routers.client_auth import (
    IDENTITY_HEADER,
    authenticate_client,
    client_principal,
    cors,
    preflight,
    read_quickly,
)
from clarion.api.services import Services, get_services
from clarion.model.errors import InvalidInput
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import Principal
from clarion.storage.sql import SqlDatabase
from clarion.surfaces import IdentityRefused, identity_secret, store
from clarion.surfaces.access import Viewer, resolve, surface_settings
from clarion.surfaces.service import act, eligible

router = APIRouter(tags=["surfaces"])


def _viewer(
    services: Services, tx: Any, principal: Principal, profile: str | None, token: str | None
) -> tuple[Viewer, dict[str, Any]]:
    """The viewer and the workspace's settings."""
    if not profile:
        raise InvalidInput("name the profile: ?profile=anonymous_id:...", field="profile")
    try:
        return resolve(tx, principal, profile, token, int(services.clock.now().timestamp()))
    except IdentityRefused as exc:
        raise unauthorized(exc.message) from None


SURFACE_PARAMETERS = [
    {
        "name": "profile",
        "in": "query",
        "required": True,
        "description": "anonymous_id:..., user_id:... (with the identity token), or, with a "
        "secret key, email:..., phone:..., profile_id:...",
        "schema": {"type": "string"},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "X-Clarion-Identity-Token",
        "in": "header",
        "required": False,
        "description": "JWT (HS256) of the user id (`sub`) and `exp`, signed with the "
        "workspace's identity secret",
        "schema": {"type": "string"},
    },
]


def _limit(text: str | None) -> int:
    if text is None:
        return 50
    if not text.isdigit() or not 1 <= int(text) <= 200:
        raise InvalidInput("limit is a whole number from 1 to 200", field="limit")
    return int(text)


async def serve_surface(request: Request) -> OrjsonResponse:
    """`GET /v1/surfaces/{surface}`, the hot path of web pages and apps.

    A plain Starlette route (registered ahead of the documented one below): no
    dependency to solve, parameters read by hand, the key checked from the cache,
    the read on the event loop for SQLite (no hop to the thread pool) through
    pre-compiled statements on a pooled connection."""
    surface = str(request.path_params["surface"])
    services: Services = request.app.state.services
    principal = authenticate_client(request, services)
    params = request.query_params
    profile, limit = params.get("profile"), _limit(params.get("limit"))
    token = request.headers.get(IDENTITY_HEADER) or params.get("token")

    def read(tx: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        viewer, ws_settings = _viewer(services, tx, principal, profile, token)
        now = services.clock.now()
        settings = surface_settings(ws_settings)
        items = eligible(tx, principal.workspace_id, viewer, surface, now, settings, limit)
        return items, ws_settings

    def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if isinstance(services.db, SqlDatabase) and not (profile or "").startswith("profile_id:"):
            with store.raw_reads(services.db.engine) as raw:
                return read(raw)
        with services.db.read() as tx:
            return read(tx)

    items, ws_settings = await read_quickly(services, run)
    response = OrjsonResponse({"surface": surface, "items": items})
    cors(request, response, ws_settings)
    return response


router.routes.append(
    Route("/v1/surfaces/{surface}", serve_surface, methods=["GET"], include_in_schema=False)
)


@router.get(
    "/v1/surfaces/{surface}",
    openapi_extra={"parameters": SURFACE_PARAMETERS, "security": [{"HTTPBearer": []}]},
    response_class=OrjsonResponse,
)
async def get_surface(surface: str, request: Request) -> OrjsonResponse:
    """The content eligible for a profile on a surface, highest priority first.

    (The OpenAPI description of `serve_surface`, which answers these requests.)"""
    return await serve_surface(request)


async def _act(
    item_id: str,
    action: str,
    request: Request,
    response: Response,
    principal: Principal,
    services: Services,
) -> Any:
    profile = request.query_params.get("profile")
    token = request.headers.get(IDENTITY_HEADER) or request.query_params.get("token")

    def run() -> tuple[dict[str, Any], dict[str, Any]]:
        with services.db.write() as tx:
            viewer = None
            if principal.kind is not KeyKind.SECRET or profile:
                viewer, _settings = _viewer(services, tx, principal, profile, token)
            item = act(tx, principal.workspace_id, item_id, action, viewer, services.clock.now())
            return item, tx.workspaces.settings(principal.workspace_id)

    item, ws_settings = await run_in_threadpool(run)
    services.wake_consumers()
    cors(request, response, ws_settings)
    return item


@router.post("/v1/surfaces/cards/{item_id}/read")
async def card_read(
    item_id: str,
    request: Request,
    response: Response,
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    """An impression: the card (or message) was shown."""
    return await _act(item_id, "read", request, response, principal, services)


@router.post("/v1/surfaces/cards/{item_id}/click")
async def card_click(
    item_id: str,
    request: Request,
    response: Response,
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    return await _act(item_id, "click", request, response, principal, services)


@router.post("/v1/surfaces/cards/{item_id}/dismiss")
async def card_dismiss(
    item_id: str,
    request: Request,
    response: Response,
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    """The card is gone for this profile (and a `message.dismissed` event recorded)."""
    return await _act(item_id, "dismiss", request, response, principal, services)


@router.get("/v1/identity-secret")
def get_identity_secret(
    principal: Principal = Depends(require(Role.ADMIN)),
    services: Services = Depends(get_services),
) -> Any:
    """The secret a customer's backend signs identity tokens with (JWT HS256, `sub`, `exp`)."""
    with services.db.write() as tx:  # the workspace's signing key is created on first use
        key = tx.signing_key(principal.workspace_id)
    return {"algorithm": "HS256", "secret": identity_secret(key)}


@router.options("/v1/surfaces/{path:path}", include_in_schema=False)
def surfaces_preflight(request: Request) -> PlainResponse:
    return preflight(request)
