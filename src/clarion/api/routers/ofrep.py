"""The OpenFeature Remote Evaluation Protocol over surfaces: a stock OpenFeature SDK fetches
a code-based experience as a flag value.

`POST /ofrep/v1/evaluate/flags/{surface}` with `{"context": {"targetingKey":
"user_id:42" | "<anonymous id>", "identityToken"?}}` answers the surface's top
item: `value` is its JSON (or its rendered fields), `variant` the message id,
`reason` TARGETING_MATCH; a profile with nothing there gets 404 FLAG_NOT_FOUND,
so the SDK falls back to the caller's default. `POST /ofrep/v1/evaluate/flags`
answers every surface of the profile, with an ETag (304 when unchanged).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import Response as PlainResponse
from starlette.concurrency import run_in_threadpool

from clarion.api.responses import OrjsonResponse
from clarion.api.routers.client_auth import IDENTITY_HEADER, client_principal, cors, preflight
from clarion.api.services import Services, get_services
from clarion.model.workspaces import Principal
from clarion.surfaces import IdentityRefused
from clarion.surfaces.access import resolve, surface_settings
from clarion.surfaces.service import eligible

router = APIRouter(prefix="/ofrep/v1", tags=["ofrep"])


def _error(key: str | None, status: int, code: str, details: str) -> OrjsonResponse:
    body: dict[str, Any] = {"errorCode": code, "errorDetails": details}
    if key is not None:
        body["key"] = key
    return OrjsonResponse(body, status_code=status)


def flag(item: dict[str, Any]) -> dict[str, Any]:
    content = item["content"]
    value = content.get("json") if isinstance(content.get("json"), dict | list) else content
    return {
        "key": item["surface"],
        "value": value,
        "variant": item["id"],
        "reason": "TARGETING_MATCH",
        "metadata": {
            "message_id": item["id"],
            "channel": item["channel"],
            "expires_at": item["expires_at"] or "",
        },
    }


async def _evaluate(
    request: Request, principal: Principal, services: Services, surface: str | None
) -> tuple[list[dict[str, Any]] | OrjsonResponse, dict[str, Any]]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return _error(surface, 400, "PARSE_ERROR", "the body is not JSON"), {}
    context = body.get("context") if isinstance(body, dict) else None
    if not isinstance(context, dict):
        context = {}
    key = context.get("targetingKey")
    if not isinstance(key, str) or not key:
        return _error(surface, 400, "TARGETING_KEY_MISSING", "context.targetingKey is needed"), {}
    token = request.headers.get(IDENTITY_HEADER) or context.get("identityToken")
    if isinstance(token, str) and not key.startswith(("user_id:", "anonymous_id:")):
        key = f"user_id:{key}"

    def run() -> tuple[list[dict[str, Any]] | OrjsonResponse, dict[str, Any]]:
        with services.db.read() as tx:
            try:
                viewer, ws_settings = resolve(
                    tx,
                    principal,
                    key,
                    token if isinstance(token, str) else None,
                    int(services.clock.now().timestamp()),
                )
            except IdentityRefused as exc:
                return _error(surface, 401, "INVALID_CONTEXT", exc.message), {}
            items = eligible(
                tx,
                principal.workspace_id,
                viewer,
                surface,
                services.clock.now(),
                surface_settings(ws_settings),
                200,
            )
        return items, ws_settings

    return await run_in_threadpool(run)


@router.post("/evaluate/flags/{key}")
async def evaluate_flag(
    key: str,
    request: Request,
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    """One surface as a flag."""
    items, ws_settings = await _evaluate(request, principal, services, key)
    if isinstance(items, OrjsonResponse):
        return items
    response = (
        OrjsonResponse(flag(items[0]))
        if items
        else _error(key, 404, "FLAG_NOT_FOUND", f"nothing on {key!r} for this profile")
    )
    cors(request, response, ws_settings)
    return response


@router.post("/evaluate/flags")
async def evaluate_flags(
    request: Request,
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    """Every surface of the profile (its top item each), with an ETag."""
    items, ws_settings = await _evaluate(request, principal, services, None)
    if isinstance(items, OrjsonResponse):
        return items
    top: dict[str, dict[str, Any]] = {}
    for item in items:
        top.setdefault(item["surface"], item)
    flags = [flag(item) for item in top.values()]
    etag = '"' + hashlib.sha256(orjson.dumps(flags)).hexdigest()[:32] + '"'
    response: Response
    if request.headers.get("if-none-match") == etag:
        response = PlainResponse(status_code=304, headers={"ETag": etag})
    else:
        response = OrjsonResponse({"flags": flags}, headers={"ETag": etag})
    cors(request, response, ws_settings)
    return response


@router.options("/{path:path}", include_in_schema=False)
def ofrep_preflight(request: Request) -> PlainResponse:
    return preflight(request)
