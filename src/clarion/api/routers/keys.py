"""API keys of the caller's workspace (admin role)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.services import Services, get_services
from clarion.model.errors import NotFound
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import ApiKey, Principal
from clarion.storage.base import Page
from clarion.workspaces import issue_key

router = APIRouter(prefix="/v1/keys", tags=["keys"])
admin = require(Role.ADMIN)


class CreateKey(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["secret", "write"] = "secret"
    role: Role | None = Field(None, description="for secret keys; defaults to viewer")


def render_key(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "kind": key.kind.value,
        "role": key.role.value if key.role else None,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


@router.get("")
def list_keys(
    page: Page = Depends(page_params),
    principal: Principal = Depends(admin),
    services: Services = Depends(get_services),
) -> Any:
    """The workspace's keys (never their tokens)."""
    with services.db.read() as tx:
        rows = tx.keys.list(principal.workspace_id, page)
    return paged(rows, page, render_key, lambda k: k.id)


@router.post("", status_code=201)
def create_key(
    body: CreateKey,
    principal: Principal = Depends(admin),
    services: Services = Depends(get_services),
) -> Any:
    """Create a key; its token is in this answer only."""
    kind = KeyKind(body.kind)
    role = (body.role or Role.VIEWER) if kind is KeyKind.SECRET else None
    with services.db.write() as tx:
        issued = issue_key(tx, principal.workspace_id, kind, role, body.name, services.clock.now())
    return {**render_key(issued.key), "token": issued.token}


@router.get("/{key_id}")
def get_key(
    key_id: str, principal: Principal = Depends(admin), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        key = tx.keys.get(principal.workspace_id, key_id)
    if key is None:
        raise NotFound(f"no key {key_id!r}", field="key_id")
    return render_key(key)


@router.delete("/{key_id}", status_code=204)
def revoke_key(
    key_id: str, principal: Principal = Depends(admin), services: Services = Depends(get_services)
) -> Response:
    """Revoke a key at once."""
    with services.db.write() as tx:
        key = tx.keys.get(principal.workspace_id, key_id)
        if key is None:
            raise NotFound(f"no key {key_id!r}", field="key_id")
        tx.keys.revoke(principal.workspace_id, key_id, services.clock.now())
    services.auth.forget(key.prefix)
    return Response(status_code=204)
