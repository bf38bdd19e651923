"""Workspaces: bootstrap creation and the caller's own workspace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from clarion.api.auth import require, require_admin_bootstrap
from clarion.api.services import Services, get_services
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.workspaces import create_workspace

router = APIRouter(prefix="/v1", tags=["workspaces"])


class CreateWorkspace(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@router.post("/workspaces", status_code=201, dependencies=[Depends(require_admin_bootstrap)])
def post_workspace(body: CreateWorkspace, services: Services = Depends(get_services)) -> Any:
    """Create a workspace with its write key and an admin secret key (shown once)."""
    return create_workspace(services.db, services.clock, body.name).as_json()


@router.get("/workspace")
def get_workspace(
    principal: Principal = Depends(require(Role.VIEWER)),
    services: Services = Depends(get_services),
) -> Any:
    """The workspace the calling key belongs to."""
    with services.db.read() as tx:
        ws = tx.workspaces.get(principal.workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    return {"id": ws.id, "name": ws.name, "created_at": ws.created_at}


class WorkspaceSettings(BaseModel):
    settings: dict[str, Any] = Field(description='e.g. {"identity": {"merge_on": ["email"]}}')


@router.get("/workspace/settings")
def get_settings(
    principal: Principal = Depends(require(Role.VIEWER)),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        return {"settings": tx.workspaces.settings(principal.workspace_id)}


@router.put("/workspace/settings")
def put_settings(
    body: WorkspaceSettings,
    principal: Principal = Depends(require(Role.ADMIN)),
    services: Services = Depends(get_services),
) -> Any:
    """Replace the workspace's settings (identity rules, ...)."""
    identity = body.settings.get("identity", {})
    if not isinstance(identity, dict):
        raise InvalidInput("identity settings are an object", field="settings.identity")
    merge_on = identity.get("merge_on", [])
    if not isinstance(merge_on, list) or not all(isinstance(x, str) for x in merge_on):
        raise InvalidInput("merge_on is a list of namespaces", field="settings.identity.merge_on")
    with services.db.write() as tx:
        tx.workspaces.set_settings(principal.workspace_id, body.settings)
    return {"settings": body.settings}
