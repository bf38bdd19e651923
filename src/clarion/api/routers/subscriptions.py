"""Subscription groups, consent by address, and CSV import of consent."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.responses import OrjsonResponse, error_body
from clarion.api.services import Services, get_services
from clarion.documents import apply_documents, delete_document
from clarion.model.consent import SubscriptionGroup
from clarion.model.documents import Ref
from clarion.model.errors import ClarionError, InvalidInput, NotFound
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.profiles.consent import (
    check_group,
    parse_change,
    set_address_consent,
    set_profile_consent,
)
from clarion.profiles.rules import normalise

router = APIRouter(prefix="/v1", tags=["subscriptions"])
viewer, editor = require(Role.VIEWER), require(Role.EDITOR)
_IDENTITY_COLUMNS = ("profile_id", "user_id", "email", "phone", "anonymous_id")
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def render_group(group: SubscriptionGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "channel": group.channel,
        "default": group.default.value,
        "description": group.description,
        "created_at": group.created_at,
    }


@router.get("/subscription-groups")
def list_groups(
    principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        return {
            "items": [render_group(g) for g in tx.consent.groups(principal.workspace_id)],
            "next": None,
        }


@router.post("/subscription-groups", status_code=201)
async def create_group(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """`{"name", "channel", "default": "opt_in"|"opt_out", "description"?}`."""
    body = await request.json()
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object", field="body")
    document = {**body, "kind": "subscription_group"}

    def run() -> Any:
        with services.db.write() as tx:
            apply_documents(
                tx, services.kinds, principal.workspace_id, [document], services.clock.now()
            )
            group = tx.consent.group(principal.workspace_id, str(body.get("name")))
        assert group is not None
        return render_group(group)

    return await run_in_threadpool(run)


@router.get("/subscription-groups/{name}")
def get_group(
    name: str, principal: Principal = Depends(viewer), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        group = tx.consent.group(principal.workspace_id, name)
    if group is None:
        raise NotFound(f"no subscription group {name!r}", field="name")
    return render_group(group)


@router.delete("/subscription-groups/{name}", status_code=204)
def delete_group(
    name: str, principal: Principal = Depends(editor), services: Services = Depends(get_services)
) -> OrjsonResponse:
    with services.db.write() as tx:
        delete_document(tx, services.kinds, principal.workspace_id, Ref("subscription_group", name))
    return OrjsonResponse(None, status_code=204)


@router.put("/subscriptions/by-address")
async def put_by_address(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """Consent for an address with or without a profile: `{"channel", "address", "group"?,
    "status"}`."""
    body = await request.json()
    change = parse_change(body, "body")
    address = body.get("address") if isinstance(body, dict) else None
    if not isinstance(address, str) or not address.strip():
        raise InvalidInput("address is required", field="address")

    def run() -> Any:
        with services.db.write() as tx:
            check_group(tx, principal.workspace_id, change, "body")
            digest = set_address_consent(
                tx, principal.workspace_id, address, change, "api", services.clock.now()
            )
        return {
            "channel": change.channel,
            "group": change.group or None,
            "status": change.status.value,
            "address_hash": digest,
        }

    return await run_in_threadpool(run)


@router.post("/subscriptions/import")
async def import_csv(
    request: Request,
    principal: Principal = Depends(editor),
    services: Services = Depends(get_services),
) -> Any:
    """CSV with a header: `channel,status` and `group` (optional), plus `address` or one
    identity column (`profile_id`, `user_id`, `email`, `phone`, `anonymous_id`). Valid rows
    are kept; refused rows are listed with their line number."""
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is over {MAX_IMPORT_BYTES} bytes", field="body")
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"not a UTF-8 CSV file: {exc}", field="body") from exc
    columns = set(reader.fieldnames or [])
    if not {"channel", "status"} <= columns:
        raise InvalidInput("the header needs channel and status columns", field="header")
    if not columns & {"address", *_IDENTITY_COLUMNS}:
        raise InvalidInput("the header needs address or an identity column", field="header")

    def run() -> tuple[int, list[dict[str, Any]]]:
        imported, rejected = 0, []
        now = services.clock.now()
        ws = principal.workspace_id
        with services.db.write() as tx:
            for line, row in enumerate(rows, start=2):
                try:
                    change = parse_change({k: (v or None) for k, v in row.items()}, "row")
                    check_group(tx, ws, change, "row")
                    profile_id = None
                    for column in _IDENTITY_COLUMNS:
                        value = (row.get(column) or "").strip()
                        if value and column == "profile_id":
                            profile_id = value if tx.profiles.get(ws, value) else None
                        elif value:
                            key = (column, normalise(column, value))
                            profile_id = tx.profiles.owners(ws, [key]).get(key)
                        if profile_id:
                            break
                    address = row.get("address") or row.get("email") or row.get("phone") or ""
                    if profile_id:
                        set_profile_consent(tx, ws, profile_id, [change], "import", now)
                    elif address.strip():
                        set_address_consent(tx, ws, address, change, "import", now)
                    else:
                        raise InvalidInput("no known profile and no address", field="row")
                    imported += 1
                except ClarionError as exc:
                    rejected.append(
                        {
                            "line": line,
                            "field": (exc.field or "").replace("row.", ""),
                            "message": exc.message,
                        }
                    )
        return imported, rejected

    imported, rejected = await run_in_threadpool(run)
    if rejected:
        first = rejected[0]
        body = error_body(
            "invalid_rows",
            f"line {first['line']}: {first['message']}",
            f"line {first['line']}",
        )
        body.update(imported=imported, rejected=rejected)
        return OrjsonResponse(body, status_code=400)
    return {"imported": imported, "rejected": []}
