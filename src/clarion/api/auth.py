"""Authentication dependencies.

Secret keys come as `Authorization: Bearer <token>`; the public write key as
HTTP Basic with the key as user name and an empty password (as Segment's SDKs
send it) or, for ingestion, as `writeKey` in the body.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBasic, HTTPBearer

from clarion.api.services import Services, get_services
from clarion.model.errors import Forbidden
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import Principal

bearer_scheme = HTTPBearer(auto_error=False, description="a secret API key")
basic_scheme = HTTPBasic(auto_error=False, description="the write key as user name")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="clarion"'}


def presented_token(request: Request) -> str | None:
    """The token in the Authorization header (Bearer, or Basic user name), if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    return None


def unauthorized(message: str = "a valid API key is required") -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers=_CHALLENGE)


def secret_principal(
    request: Request,
    services: Services = Depends(get_services),
    _bearer: object = Depends(bearer_scheme),
) -> Principal:
    """The caller of a management endpoint: must hold a valid secret key."""
    token = presented_token(request)
    if token is None:
        raise unauthorized()
    principal = services.auth.authenticate(token)
    if principal is None:
        raise unauthorized("the API key is not valid or was revoked")
    if principal.kind is not KeyKind.SECRET:
        raise Forbidden("a write key can only send events; use a secret key")
    return principal


def require(role: Role) -> Callable[..., Principal]:
    """A dependency admitting secret keys whose role covers `role`."""

    def dependency(principal: Principal = Depends(secret_principal)) -> Principal:
        if not principal.allows(role):
            raise Forbidden(f"this needs the {role.value} role; the key has {principal.role}")
        return principal

    return dependency


def require_admin_bootstrap(
    request: Request,
    services: Services = Depends(get_services),
    _bearer: object = Depends(bearer_scheme),
) -> None:
    """The server-wide bootstrap key (`CLARION_ADMIN_KEY`), for creating workspaces."""
    configured = services.settings.admin_key
    if configured is None:
        raise Forbidden(
            "creating workspaces over the API is off: set CLARION_ADMIN_KEY, "
            "or run `clarion workspaces create`"
        )
    token = presented_token(request)
    if token is None:
        raise unauthorized("the admin bootstrap key is required")
    if not hmac.compare_digest(token.encode(), configured.get_secret_value().encode()):
        raise unauthorized("the admin bootstrap key is not valid")
