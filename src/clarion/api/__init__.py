"""The HTTP API: FastAPI app factory (the composition root) and routers."""

from clarion.api.app import create_app

__all__ = ["create_app"]
