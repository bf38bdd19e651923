"""Errors to HTTP: every failure answers `{"error": {"code", "message", "field"?}}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from clarion.api.responses import OrjsonResponse, error_body
from clarion.documents.errors import InvalidDocuments, StillReferenced
from clarion.model.errors import (
    ClarionError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
)

_STATUS: list[tuple[type[ClarionError], int]] = [
    (InvalidInput, 400),
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (TooLarge, 413),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
}


def _status_of(exc: ClarionError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _extra(exc: ClarionError) -> dict[str, Any]:
    if isinstance(exc, InvalidDocuments):
        return {"problems": [p.as_json() for p in exc.problems]}
    if isinstance(exc, StillReferenced):
        return {"referrers": [{"kind": r.kind, "name": r.name} for r in exc.referrers]}
    return dict(exc.details)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[-1] if loc else "")


async def _clarion_error(_request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, ClarionError)
    body = error_body(exc.code, exc.message, exc.field, **_extra(exc))
    return OrjsonResponse(body, status_code=_status_of(exc))


async def _validation_error(_request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = _location(tuple(first.get("loc", ())))
    problems = [
        {"field": _location(tuple(e.get("loc", ()))), "message": e.get("msg")} for e in errors
    ]
    message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
    return OrjsonResponse(
        error_body("invalid", message, field or None, problems=problems), status_code=400
    )


async def _http_error(_request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return OrjsonResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map Clarion errors, request validation and HTTP errors to the error shape."""
    app.add_exception_handler(ClarionError, _clarion_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
