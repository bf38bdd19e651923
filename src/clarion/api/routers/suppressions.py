"""Suppression lists: addresses that must not be sent to."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from clarion.api.auth import require
from clarion.api.pagination import page_params, paged
from clarion.api.services import Services, get_services
from clarion.model.consent import CHANNELS
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.consent import address_hash
from clarion.storage.base import Page, Suppression

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)


class NewSuppression(BaseModel):
    channel: str = "*"
    address: str
    reason: Literal["hard_bounce", "complaint", "manual", "invalid_address"] = "manual"


def render_suppression(s: Suppression) -> dict[str, Any]:
    return {
        "channel": s.channel,
        "address": s.address,
        "address_hash": s.address_hash,
        "reason": s.reason,
        "created_at": s.created_at,
    }


def _hash(channel: str, address: str) -> str:
    if channel != "*" and channel not in CHANNELS:
        raise InvalidInput(f"channel is * or one of {', '.join(CHANNELS)}", field="channel")
    if channel == "*":  # hashed as the channel that would carry it
        channel = "email" if "@" in address else "sms"
    return address_hash(channel, address)


@router.get("")
def list_suppressions(
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        rows = tx.suppressions.list(principal.workspace_id, page)
    return paged(rows, page, render_suppression, lambda s: s.address_hash)


@router.post("", status_code=201)
def add_suppression(
    body: NewSuppression,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    digest = _hash(body.channel, body.address)
    with services.db.write() as tx:
        tx.suppressions.add(
            principal.workspace_id,
            body.channel,
            digest,
            body.address.strip(),
            body.reason,
            services.clock.now(),
        )
    return {"channel": body.channel, "address_hash": digest, "reason": body.reason}


@router.delete("/{channel}/{address}", status_code=204)
def remove_suppression(
    channel: str,
    address: str,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Response:
    with services.db.write() as tx:
        if not tx.suppressions.remove(principal.workspace_id, channel, _hash(channel, address)):
            raise NotFound("that address is not suppressed", field="address")
    return Response(status_code=204)
