"""The objects one app instance runs on, assembled once by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from clarion.clock import Clock
from clarion.config import Settings
from clarion.documents import KindRegistry
from clarion.storage.base import Database
from clarion.workspaces import Authenticator


@dataclass
class Services:
    """Settings, storage, clock, document kinds and the authenticator of one app."""

    settings: Settings
    db: Database
    clock: Clock
    kinds: KindRegistry
    auth: Authenticator
    extras: dict[str, object] = field(default_factory=dict)


def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's services."""
    services: Services = request.app.state.services
    return services
