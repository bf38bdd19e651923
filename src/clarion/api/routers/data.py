"""`POST /v1/data/{entity}`: rows of an entity into the data source (CSV or JSON)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import require
from clarion.api.routers.canvases import canvas_service
from clarion.api.services import Services, get_services
from clarion.model.errors import InvalidInput
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.orchestrated import parse_csv

router = APIRouter(prefix="/v1/data", tags=["orchestrated"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def rows_of(body: bytes, content_type: str) -> list[Any]:
    """Rows from a CSV body (with a header) or a JSON array (or `{"rows": [...]}`)."""
    if "csv" in content_type:
        return parse_csv(body.decode("utf-8-sig"))
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is neither JSON nor text/csv: {exc}", field="body") from exc
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise InvalidInput("send a JSON array of rows or a text/csv body", field="body")
    return data


@router.post("/{entity}", openapi_extra=_BODY)
async def load(
    entity: str,
    request: Request,
    mode: str = "replace",
    principal: Principal = Depends(require(Role.EDITOR)),
    services: Services = Depends(get_services),
) -> Any:
    """Store rows of `entity`: `mode=replace` (the default) or `append` (upsert by key)."""
    if mode not in ("replace", "append"):
        raise InvalidInput("mode is `replace` or `append`", field="mode")
    service = canvas_service(services)
    await run_in_threadpool(service.entity, principal.workspace_id, entity)
    rows = rows_of(await request.body(), request.headers.get("content-type", ""))
    loaded = await run_in_threadpool(
        service.load_data, principal.workspace_id, entity, rows, mode == "replace"
    )
    return {"entity": entity, "rows": loaded, "mode": mode}
