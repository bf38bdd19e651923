"""Profiles: lookup, events, subscriptions and erasure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.pagination import decode_cursor, encode_cursor, page_params, paged
from clarion.api.services import Services, get_services
from clarion.clock import from_micros
from clarion.model.errors import InvalidInput, NotFound
from clarion.model.events import LoggedEvent
from clarion.model.profiles import ProfileRecord
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.consent import (
    check_group,
    parse_change,
    set_profile_consent,
    subscriptions_view,
)
from clarion.profiles.erasure import erase_profile
from clarion.profiles.rules import normalise
from clarion.storage.base import Page, Tx

router = APIRouter(prefix="/v1/profiles", tags=["profiles"])
viewer, editor, admin = require(Role.VIEWER), require(Role.EDITOR), require(Role.ADMIN)


def render_profile(record: ProfileRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "traits": record.traits,
        "identities": [{"namespace": ns, "value": v} for ns, v in sorted(record.identities)],
        "timezone": record.timezone,
        "locale": record.locale,
        "is_test": record.is_test,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def render_event(event: LoggedEvent) -> dict[str, Any]:
    item: dict[str, Any] = {
        "message_id": event.message_id,
        "type": event.type,
        "event": event.event,
        "properties": event.properties,
        "timestamp": from_micros(event.timestamp_us),
        "received_at": from_micros(event.received_at_us),
    }
    if "traits" in event.payload:
        item["traits"] = event.payload["traits"]
    return item


def find_profile(tx: Tx, workspace_id: str, profile_id: str) -> ProfileRecord:
    """A profile by id; an id merged into another answers the survivor."""
    record = tx.profiles.get(workspace_id, profile_id)
    if record is None:
        survivor = tx.profiles.survivor(workspace_id, profile_id)
        record = tx.profiles.get(workspace_id, survivor) if survivor else None
    if record is None:
        raise NotFound(f"no profile {profile_id!r}", field="profile_id")
    return record


@router.get("")
def list_profiles(
    identity: str | None = Query(None, description="namespace:value, e.g. email:a@b.c"),
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Profiles of the workspace, or the one holding `identity` (404 when nobody does)."""
    with services.db.read() as tx:
        if identity is None:
            return paged(
                tx.profiles.list(principal.workspace_id, page), page, render_profile, lambda r: r.id
            )
        namespace, sep, value = identity.partition(":")
        if not sep or not namespace or not value:
            raise InvalidInput("identity is namespace:value, e.g. user_id:42", field="identity")
        wanted = (namespace, normalise(namespace, value))
        owner = tx.profiles.owners(principal.workspace_id, [wanted]).get(wanted)
        if owner is None:
            raise NotFound(f"nobody has the identity {identity!r}", field="identity")
        return render_profile(find_profile(tx, principal.workspace_id, owner))


@router.get("/{profile_id}")
def get_profile(
    profile_id: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    with services.db.read() as tx:
        return render_profile(find_profile(tx, principal.workspace_id, profile_id))


@router.patch("/{profile_id}")
async def patch_profile(
    profile_id: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Mark a profile as a test profile (`{"is_test": true}`) for journey test runs.
    Traits change through identify calls, not here."""
    body = await request.json()

    def run() -> Any:
        with services.db.write() as tx:
            record = find_profile(tx, principal.workspace_id, profile_id)
            if not isinstance(body, dict) or not isinstance(body.get("is_test"), bool):
                raise InvalidInput('send {"is_test": true|false}', field="is_test")
            record.is_test = body["is_test"]
            record.updated_at = services.clock.now()
            tx.profiles.update([record])
            return render_profile(record)

    return await run_in_threadpool(run)


@router.get("/{profile_id}/events")
def profile_events(
    profile_id: str,
    limit: int = Query(50, ge=1, le=1000),
    cursor: str | None = None,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """The profile's events, newest first."""
    before = None
    if cursor:
        decoded = decode_cursor(cursor)
        if not decoded.isdigit():
            raise InvalidInput("not a cursor this API returned", field="cursor")
        before = int(decoded)
    with services.db.read() as tx:
        record = find_profile(tx, principal.workspace_id, profile_id)
        rows = tx.events.for_profile(principal.workspace_id, record.id, limit + 1, before)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [render_event(e) for e in rows],
        "next": encode_cursor(str(rows[-1].seq)) if more and rows else None,
    }


@router.delete("/{profile_id}")
def erase(
    profile_id: str,
    principal: Principal = Depends(admin),
    services: Services = Depends(get_services),
) -> Any:
    """GDPR erasure: forget the person everywhere; later events for them are dropped."""
    with services.db.write() as tx:
        report = erase_profile(
            tx, principal.workspace_id, profile_id, principal.key_id, services.clock.now()
        )
    return {"erased": True, "audit_id": report.audit_id, "rows": report.rows}


@router.get("/{profile_id}/subscriptions")
def get_subscriptions(
    profile_id: str,
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Effective consent per channel and subscription group, with explicit states."""
    with services.db.read() as tx:
        record = find_profile(tx, principal.workspace_id, profile_id)
        return {"items": subscriptions_view(tx, principal.workspace_id, record.id)}


@router.put("/{profile_id}/subscriptions")
async def put_subscriptions(
    profile_id: str,
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Change consent: `{"subscriptions": [{"channel", "group"?, "status"}], "source"?}`."""
    body = await request.json()

    def run() -> dict[str, Any]:
        with services.db.write() as tx:
            record = find_profile(tx, principal.workspace_id, profile_id)
            if not isinstance(body, dict) or not isinstance(body.get("subscriptions"), list):
                raise InvalidInput('send {"subscriptions": [...]}', field="subscriptions")
            source = body.get("source", "api")
            if source not in ("api", "import"):
                raise InvalidInput("source is api or import", field="source")
            changes = [
                parse_change(raw, f"subscriptions[{i}]")
                for i, raw in enumerate(body["subscriptions"])
            ]
            for i, change in enumerate(changes):
                check_group(tx, principal.workspace_id, change, f"subscriptions[{i}]")
            set_profile_consent(
                tx, principal.workspace_id, record.id, changes, source, services.clock.now()
            )
            return {"items": subscriptions_view(tx, principal.workspace_id, record.id)}

    return await run_in_threadpool(run)


@router.get("/{profile_id}/subscriptions/history")
def subscription_history(
    profile_id: str,
    page: Page = Depends(page_params),
    principal: Principal = Depends(viewer),
    services: Services = Depends(get_services),
) -> Any:
    """Every consent change of the profile, oldest first, with its source."""
    with services.db.read() as tx:
        record = find_profile(tx, principal.workspace_id, profile_id)
        rows = tx.consent.history(principal.workspace_id, record.id, page)
    return paged(
        rows,
        page,
        lambda c: {
            "channel": c.channel,
            "group": c.group or None,
            "status": c.status.value,
            "source": c.source,
            "created_at": c.created_at,
        },
        lambda c: c.id,
    )
