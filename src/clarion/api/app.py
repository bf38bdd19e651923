"""The composition root: assembles storage, clock, kinds and routers into one app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

import clarion
from clarion.api.errors import install_error_handlers
from clarion.api.responses import OrjsonResponse
from clarion.api.routers import (
    channels,
    delivery_webhooks,
    documents,
    health,
    ingest,
    keys,
    messages,
    profiles,
    subscriptions,
    suppressions,
    templates,
    tracking,
    workspaces,
)
from clarion.api.services import Services
from clarion.clock import Clock, SystemClock
from clarion.config import Settings
from clarion.delivery import Dispatcher, DispatcherLoop, ProviderRegistry
from clarion.delivery.templates import FragmentKind, TemplateKind, TemplateStore
from clarion.documents import DocumentKind, KindRegistry
from clarion.processing import Consumer, ConsumerLoop
from clarion.profiles import IdentityStage
from clarion.profiles.groups import SubscriptionGroupKind
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.migrate import upgrade
from clarion.workspaces import Authenticator


def builtin_kinds() -> list[DocumentKind]:
    """The document kinds every app knows."""
    return [SubscriptionGroupKind(), TemplateKind(), FragmentKind()]


def consumers(clock: Clock) -> list[Consumer]:
    """The log consumers of the embedded mode, in pipeline order."""
    return [IdentityStage(clock)]


def open_database(url: str, *, migrate: bool = True) -> SqlDatabase:
    """Open the database at `url`, applying migrations first."""
    db = SqlDatabase.from_url(url)
    if migrate:
        upgrade(db.engine)
    return db


def create_app(
    settings: Settings | None = None,
    *,
    db: SqlDatabase | None = None,
    clock: Clock | None = None,
    extra_kinds: Sequence[DocumentKind] = (),
) -> FastAPI:
    """A Clarion app. Opens (and migrates) the configured database unless `db` is given."""
    settings = settings or Settings()
    db = db or open_database(settings.database_url)
    clock = clock or SystemClock()
    defaults = {"email": ("smtp", {"url": settings.smtp_url})} if settings.smtp_url else {}
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        kinds=KindRegistry([*builtin_kinds(), *extra_kinds]),
        auth=Authenticator(db),
        templates=TemplateStore(),
        providers=ProviderRegistry(db, clock, defaults=defaults),
    )
    loop = ConsumerLoop(db, clock, consumers=consumers(clock))
    dispatcher = DispatcherLoop(
        Dispatcher(db, clock, services.providers, services.templates, public_url=settings.base_url)
    )
    if settings.workers:
        services.wake_consumers = loop.wake
        services.wake_dispatcher = dispatcher.wake

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.workers:
            loop.start()
            dispatcher.start()
        try:
            yield
        finally:
            loop.stop()
            dispatcher.stop()

    app = FastAPI(
        title="Clarion",
        version=clarion.__version__,
        description="Customer engagement orchestration: journeys, campaigns, delivery.",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.consumer_loop = loop
    app.state.dispatcher = dispatcher.dispatcher
    install_error_handlers(app)
    for module in (
        health,
        workspaces,
        keys,
        documents,
        ingest,
        profiles,
        subscriptions,
        templates,
        messages,
        channels,
        suppressions,
        delivery_webhooks,
        tracking,
    ):
        app.include_router(module.router)
    return app
