"""The composition root: assembles storage, clock, kinds and routers into one app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

import clarion
from clarion.api.errors import install_error_handlers
from clarion.api.responses import OrjsonResponse
from clarion.api.routers import (
    audiences,
    campaign_trigger,
    campaigns,
    canvases,
    channels,
    data,
    delivery_webhooks,
    documents,
    health,
    ingest,
    journeys,
    keys,
    messages,
    ofrep,
    profiles,
    push_subscriptions,
    sdk,
    subscriptions,
    suppressions,
    surfaces,
    templates,
    tracking,
    vendor_webhooks,
    workspaces,
)
from clarion.api.runtime import build_runtime
from clarion.clock import Clock, SystemClock
from clarion.config import Settings
from clarion.documents import DocumentKind
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.migrate import upgrade


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
    if not settings.workers:
        db.share_writes()  # workers in other processes write to it too
    clock = clock or SystemClock()
    runtime = build_runtime(settings, db, clock, extra_kinds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.workers:
            runtime.start()
        elif settings.handoff:
            runtime.start_handoff()
        try:
            yield
        finally:
            if settings.workers:
                runtime.stop()
            elif settings.handoff:
                runtime.stop_handoff()

    app = FastAPI(
        title="Clarion",
        version=clarion.__version__,
        description="Customer engagement orchestration: journeys, campaigns, delivery.",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.services = runtime.services
    app.state.runtime = runtime
    app.state.dispatcher = runtime.dispatcher
    install_error_handlers(app)
    for module in (
        campaign_trigger,  # the hot path first: matched before every other route
        health,
        sdk,
        surfaces,
        ofrep,
        push_subscriptions,
        vendor_webhooks,
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
        journeys,
        campaigns,
        audiences,
        canvases,
        data,
    ):
        app.include_router(module.router)
    return app
