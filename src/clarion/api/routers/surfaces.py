"""Inbound surfaces: eligible content per profile, and card state.

`GET /v1/surfaces/{surface}?profile=anonymous_id:abc` (write key) or
`?profile=user_id:42` with `X-Clarion-Identity-Token` (write key), or any
identity with a secret key. `POST /v1/surfaces/cards/{id}/read|click|dismiss`
records an impression, click or dismissal under the same rules.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import Response as PlainResponse
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require, unauthorized
from clarion.api.routers.client_auth import IDENTITY_HEADER, client_principal, cors, preflight
from clarion.api.services import Services, get_services
from clarion.model.errors import InvalidInput
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import Principal
from clarion.surfaces import IdentityRefused, identity_secret, resolve_viewer
from clarion.surfaces.access import Viewer, surface_settings
from clarion.surfaces.service import act, eligible

router = APIRouter(tags=["surfaces"])


def _viewer(
    services: Services, tx: Any, principal: Principal, profile: str | None, token: str | None
) -> Viewer:
    if not profile:
        raise InvalidInput("name the profile: ?profile=anonymous_id:...", field="profile")
    try:
        return resolve_viewer(tx, principal, profile, token, int(services.clock.now().timestamp()))
    except IdentityRefused as exc:
        raise unauthorized(exc.message) from None


@router.get("/v1/surfaces/{surface}")
async def get_surface(
    surface: str,
    request: Request,
    response: Response,
    profile: str | None = Query(None, description="anonymous_id:..., user_id:..."),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    """The content eligible for a profile on a surface, highest priority first."""
    token = request.headers.get(IDENTITY_HEADER) or request.query_params.get("token")

    def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with services.db.read() as tx:
            viewer = _viewer(services, tx, principal, profile, token)
            ws_settings = tx.workspaces.settings(principal.workspace_id)
            now = services.clock.now()
            items = eligible(
                tx,
                principal.workspace_id,
                viewer,
                surface,
                now,
                surface_settings(ws_settings),
                limit,
            )
        return items, ws_settings

    items, ws_settings = await run_in_threadpool(run)
    cors(request, response, ws_settings)
    return {"surface": surface, "items": items}


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
                viewer = _viewer(services, tx, principal, profile, token)
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
    with services.db.read() as tx:
        key = tx.signing_key(principal.workspace_id)
    return {"algorithm": "HS256", "secret": identity_secret(key)}


@router.options("/v1/surfaces/{path:path}", include_in_schema=False)
def surfaces_preflight(request: Request) -> PlainResponse:
    return preflight(request)
