"""`GET /sdk/clarion.js`: the dependency-free snippet that renders surfaces in web pages."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(tags=["sdk"])


@cache
def _script() -> bytes:
    return resources.files("clarion.surfaces").joinpath("static/clarion.js").read_bytes()


@router.get("/sdk/clarion.js")
def clarion_js() -> Response:
    """The surfaces SDK (public: it holds no secret)."""
    return Response(
        _script(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )
