"""The Segment HTTP Tracking API (`/v1/track`, `/v1/batch`, ...) and CloudEvents.

Authentication exactly as Segment: HTTP Basic with the write key as user name
(or a secret key as Bearer), or `writeKey` in the JSON body. The answer is
`200 {"success": true}` only after the events are durably appended. In a batch,
valid messages are kept even when others are refused: the answer is then 400
and lists the refused messages by index, with the field and the reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import presented_token, unauthorized
from clarion.api.responses import OrjsonResponse, error_body
from clarion.api.services import Services, get_services
from clarion.ingest import IngestResult, Intake, Problem, append_events, parse_all
from clarion.ingest.body import MAX_BATCH_BYTES, decompress, parse_json
from clarion.ingest.cloudevents import from_binary, to_segment
from clarion.ingest.errors import BodyTooLarge, InvalidEvent
from clarion.ingest.segment import parse_time
from clarion.model.events import CALL_TYPES
from clarion.model.roles import KeyKind
from clarion.model.workspaces import Principal

router = APIRouter(prefix="/v1", tags=["ingestion"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}}
        },
    }
}


async def read_body(request: Request) -> bytes:
    """The raw body, refusing more than the batch limit before reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise BodyTooLarge(f"the body is over {MAX_BATCH_BYTES} bytes", field="body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            raise BodyTooLarge(f"the body is over {MAX_BATCH_BYTES} bytes", field="body")
        chunks.append(chunk)
    raw = b"".join(chunks)
    return decompress(raw, request.headers.get("content-encoding", ""))


def ingestion_principal(request: Request, services: Services, body: Any) -> Principal:
    """The sender: a key in the Authorization header, or `writeKey` in the body."""
    token = presented_token(request)
    if token is None and isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        token = body["writeKey"]
    if token is None:
        raise unauthorized("send the write key as the Basic user name, or writeKey in the body")
    principal = services.auth.authenticate(token)
    if principal is None:
        raise unauthorized("the write key is not valid or was revoked")
    return principal


def _intake(principal: Principal, body: dict[str, Any]) -> Intake:
    sent_at = parse_time(body.get("sentAt"), "sentAt")
    if isinstance(sent_at, Problem):
        raise InvalidEvent(sent_at.message, field="sentAt")
    context = body.get("context")
    integrations = body.get("integrations")
    return Intake(
        origin="write_key" if principal.kind is KeyKind.WRITE else "secret_key",
        sent_at=sent_at,
        context=context if isinstance(context, dict) else None,
        integrations=integrations if isinstance(integrations, dict) else None,
    )


def _answer(result: IngestResult, prefix: str | None) -> OrjsonResponse:
    if not result.rejected:
        return OrjsonResponse({"success": True})
    index, first = result.rejected[0]

    def where(i: int, problem: Problem) -> str:
        if prefix is None:
            return problem.field
        return f"{prefix}[{i}].{problem.field}".rstrip(".")

    kept = result.accepted + result.duplicates
    status = 413 if not kept and all(p.status == 413 for _, p in result.rejected) else 400
    body = error_body(
        "invalid_event" if status == 400 else "too_large",
        f"{where(index, first)}: {first.message}" if first.field else first.message,
        where(index, first) or None,
    )
    # Segment's own error shape too, which its SDKs read and log.
    body.update(code=body["error"]["code"], message=body["error"]["message"])
    if prefix is not None:
        body.update(
            success=False,
            accepted=kept,
            rejected=[
                {"index": i, "field": where(i, p), "message": p.message} for i, p in result.rejected
            ],
        )
    return OrjsonResponse(body, status_code=status)


async def _accept(
    request: Request,
    services: Services,
    principal: Principal,
    messages: list[Any],
    intake: Intake,
    call_type: str | None,
    prefix: str | None,
) -> OrjsonResponse:
    events, rejected = parse_all(messages, intake, call_type)
    result = await run_in_threadpool(
        append_events, services.db, services.clock, principal.workspace_id, events
    )
    result.rejected = rejected
    if result.accepted:
        services.wake_consumers()
    return _answer(result, prefix)


def _single_call(call_type: str) -> Any:
    async def endpoint(
        request: Request, services: Services = Depends(get_services)
    ) -> OrjsonResponse:
        body = parse_json(await read_body(request))
        principal = ingestion_principal(request, services, body)
        if not isinstance(body, dict):
            raise InvalidEvent("the body must be a JSON object", field="body")
        return await _accept(
            request, services, principal, [body], _intake(principal, {}), call_type, None
        )

    endpoint.__name__ = f"ingest_{call_type}"
    endpoint.__doc__ = f"Segment `{call_type}` call."
    return endpoint


for _call in sorted(CALL_TYPES):
    router.add_api_route(
        f"/{_call}",
        _single_call(_call),
        methods=["POST"],
        openapi_extra=_BODY_DOC,
        summary=f"Segment {_call}",
    )


@router.post("/batch", openapi_extra=_BODY_DOC)
async def ingest_batch(
    request: Request, services: Services = Depends(get_services)
) -> OrjsonResponse:
    """Segment batch: `{"batch": [...], "context": {...}, "sentAt": ...}`."""
    body = parse_json(await read_body(request))
    principal = ingestion_principal(request, services, body)
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise InvalidEvent("a batch body is an object with a `batch` array", field="batch")
    if not body["batch"]:
        raise InvalidEvent("the batch is empty", field="batch")
    return await _accept(
        request, services, principal, body["batch"], _intake(principal, body), None, "batch"
    )


@router.post("/cloudevents", openapi_extra=_BODY_DOC)
async def ingest_cloudevents(
    request: Request, services: Services = Depends(get_services)
) -> OrjsonResponse:
    """CloudEvents 1.0: structured, batched (JSON array) or binary (`ce-*` headers)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = parse_json(await read_body(request))
    principal = ingestion_principal(request, services, body)
    if "ce-specversion" in request.headers:
        events: list[Any] = [from_binary(request.headers, body)]
    elif isinstance(body, list) or content_type == "application/cloudevents-batch+json":
        if not isinstance(body, list) or not body:
            raise InvalidEvent("a batched CloudEvents body is a non-empty array", field="body")
        events = body
    else:
        events = [body]
    messages: list[Any] = []
    problems: list[tuple[int, Problem]] = []
    for index, event in enumerate(events):
        converted = to_segment(event)
        if isinstance(converted, Problem):
            problems.append((index, converted))
            messages.append(None)
        else:
            messages.append(converted)
    valid = [m for m in messages if m is not None]
    positions = [i for i, m in enumerate(messages) if m is not None]
    parsed, rejected = parse_all(valid, _intake(principal, {}))
    result = await run_in_threadpool(
        append_events, services.db, services.clock, principal.workspace_id, parsed
    )
    result.rejected = sorted(
        problems + [(positions[i], p) for i, p in rejected], key=lambda item: item[0]
    )
    if result.accepted:
        services.wake_consumers()
    return _answer(result, "events" if len(events) > 1 or isinstance(body, list) else None)
