"""The objects one app instance runs on, assembled once by `create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from clarion.clock import Clock
from clarion.config import Settings
from clarion.delivery.outbox import HandOff
from clarion.delivery.providers import ProviderRegistry
from clarion.delivery.templates import TemplateStore
from clarion.documents import KindRegistry
from clarion.storage.base import Database
from clarion.workspaces import Authenticator


def _nothing() -> None:
    return None


@dataclass
class Services:
    """Settings, storage, clock, document kinds, authenticator and delivery of one app."""

    settings: Settings
    db: Database
    clock: Clock
    kinds: KindRegistry
    auth: Authenticator
    templates: TemplateStore
    providers: ProviderRegistry
    wake_consumers: Callable[[], None] = _nothing
    """Tell the log consumers new events are there (no-op without background workers)."""
    wake_dispatcher: Callable[[], None] = _nothing
    """Tell the dispatcher new messages are queued."""
    handoff: HandOff | None = None
    """This process's dispatcher, taking messages to send at once (`enqueue_now`)."""
    extras: dict[str, object] = field(default_factory=dict)


def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's services."""
    services: Services = request.app.state.services
    return services
