"""Authentication for client-facing routes (surfaces, OFREP, web push): write or secret key,
plus CORS answers whose allowed origins are a workspace setting (`surfaces.cors_origins`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import bearer_scheme, presented_token, unauthorized
from clarion.api.services import Services
from clarion.model.workspaces import Principal

IDENTITY_HEADER = "x-clarion-identity-token"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Clarion-Identity-Token"
T = TypeVar("T")


async def services_of(request: Request) -> Services:
    """The app's services (an async dependency: no hop to the thread pool on the hot path)."""
    services: Services = request.app.state.services
    return services


async def client_principal(
    request: Request,
    services: Services = Depends(services_of),
    _bearer: object = Depends(bearer_scheme),
) -> Principal:
    """The caller: the public write key or any secret key (a cached lookup: run on the loop)."""
    return authenticate_client(request, services)


def authenticate_client(request: Request, services: Services) -> Principal:
    """The principal of the presented write or secret key; a 401 without a valid one."""
    token = presented_token(request)
    if token is None:
        raise unauthorized()
    principal = services.auth.authenticate(token)
    if principal is None:
        raise unauthorized("the API key is not valid or was revoked")
    return principal


async def read_quickly(services: Services, work: Callable[[], T]) -> T:
    """Run a short read: on the event loop for SQLite (a few hundred microseconds of CPU,
    never waiting: WAL readers do not block), in the thread pool for a networked database."""
    if services.db.dialect == "sqlite":
        return work()
    return await run_in_threadpool(work)


def preflight(request: Request) -> Response:
    """CORS preflight: allowed; the answer itself carries the workspace's origin rule."""
    origin = request.headers.get("origin", "*")
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


def cors(request: Request, response: Response, settings: dict[str, object]) -> None:
    """Allow the request's origin if the workspace does (default: every origin)."""
    origin = request.headers.get("origin")
    if not origin:
        return
    surfaces = settings.get("surfaces")
    allowed = surfaces.get("cors_origins", ["*"]) if isinstance(surfaces, dict) else ["*"]
    if not isinstance(allowed, list):
        allowed = ["*"]
    if "*" in allowed or origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
