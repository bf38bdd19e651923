"""The running parts of Clarion besides HTTP: services, log consumers, the dispatcher.

`create_app` serves HTTP on top of a `Runtime`; `clarion worker` runs one without
HTTP (the scaled-out mode: any number of workers share the work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from clarion.api.services import Services
from clarion.audiences.copy import CopyConsumer, DuckDbCopy
from clarion.audiences.kind import AudienceKind
from clarion.audiences.membership import AudienceConsumer
from clarion.audiences.membership.runner import AudienceLoop
from clarion.campaigns import CampaignKind, CampaignLoop, CampaignOutcomes, RunWorker
from clarion.channels.push_owners import PushSubscriptionOwners
from clarion.channels.registry import install_channels
from clarion.clock import Clock
from clarion.config import Settings
from clarion.delivery import Dispatcher, DispatcherLoop, ProviderRegistry
from clarion.delivery.templates import FragmentKind, TemplateKind, TemplateStore
from clarion.documents import DocumentKind, KindRegistry
from clarion.journeys.consumer import JourneyConsumer
from clarion.journeys.kind import JourneyKind
from clarion.journeys.runner import JourneyTimerLoop
from clarion.orchestrated import CanvasKind, CanvasService, SchemaKind, SourceRegistry, data_dir_for
from clarion.orchestrated.loop import CanvasLoop
from clarion.outbound import OutboundClient, OutboundPolicy
from clarion.processing import Consumer, ConsumerLoop
from clarion.processing.watch import ChangeWatch
from clarion.profiles import IdentityStage
from clarion.profiles.groups import SubscriptionGroupKind
from clarion.storage.sql import SqlDatabase
from clarion.storage.sql.changes import ChangeProbe
from clarion.workspaces import Authenticator


def builtin_kinds() -> list[DocumentKind]:
    """The document kinds every app knows."""
    return [
        SubscriptionGroupKind(),
        TemplateKind(),
        FragmentKind(),
        AudienceKind(),
        JourneyKind(),
        CampaignKind(),
        SchemaKind(),
        CanvasKind(),
    ]


def consumers(clock: Clock, copy: DuckDbCopy | None = None) -> list[Consumer]:
    """The log consumers, in pipeline order."""
    copies: list[Consumer] = [CopyConsumer(copy, clock)] if copy is not None else []
    return [
        *copies,
        IdentityStage(clock),
        # Journeys before audiences: an entry event's path to its message intent is
        # one commit shorter; audience changes reach journeys through the log anyway.
        JourneyConsumer(clock),
        AudienceConsumer(clock),
        CampaignOutcomes(),
        PushSubscriptionOwners(),
    ]


@dataclass
class Runtime:
    """Services plus the background loops that work on them."""

    services: Services
    consumer_loop: ConsumerLoop
    dispatcher_loop: DispatcherLoop
    journey_loop: JourneyTimerLoop
    audience_loop: AudienceLoop
    campaign_loop: CampaignLoop | None = None
    canvas_loop: CanvasLoop | None = None
    watch: ChangeWatch | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        return self.dispatcher_loop.dispatcher

    def start(self, watch_other_processes: bool = False) -> None:
        """Start the background loops, and let requests wake them.

        With `watch_other_processes` (a worker without HTTP), a commit by any other
        process wakes the consumers and the dispatcher within milliseconds.
        """
        self.services.wake_consumers = self.consumer_loop.wake
        self.services.wake_dispatcher = self.dispatcher_loop.wake
        self.services.handoff = self.dispatcher_loop
        self.consumer_loop.start()
        self.dispatcher_loop.start()
        self.journey_loop.start()
        self.audience_loop.start()
        if self.campaign_loop is not None:
            self.campaign_loop.worker.wake = self.dispatcher_loop.wake
            self.campaign_loop.start()
        if self.canvas_loop is not None:
            self.canvas_loop.service.wake_dispatcher = self.dispatcher_loop.wake
            self.canvas_loop.start()
        if watch_other_processes:
            assert isinstance(self.services.db, SqlDatabase)
            self.watch = ChangeWatch(
                ChangeProbe(self.services.db.engine),
                [self.consumer_loop.wake, self.dispatcher_loop.wake],
            )
            if self.services.db.shares_writes:
                self.services.db.observe_writes(self.watch)
            self.watch.start()

    def start_handoff(self) -> None:
        """Only the dispatcher, for the messages this process hands it (an API process
        beside workers: triggered messages are sent by the process that accepted them;
        the workers claim everything else)."""
        self.dispatcher_loop.polls = False
        self.services.handoff = self.dispatcher_loop
        self.dispatcher_loop.start()

    def stop_handoff(self) -> None:
        self.services.handoff = None
        self.dispatcher_loop.stop()

    def stop(self) -> None:
        self.services.handoff = None
        if self.watch is not None:
            self.watch.stop()
        if self.campaign_loop is not None:
            self.campaign_loop.stop()
        if self.canvas_loop is not None:
            self.canvas_loop.stop()
        self.consumer_loop.stop()
        self.dispatcher_loop.stop()
        self.journey_loop.stop()
        self.audience_loop.stop()


def build_runtime(
    settings: Settings, db: SqlDatabase, clock: Clock, extra_kinds: Sequence[DocumentKind] = ()
) -> Runtime:
    """Assemble services, consumers and dispatcher on one database (nothing started)."""
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
    services.extras["outbound"] = install_channels(
        services.providers, db, settings.outbound_allow, settings.base_url
    )
    dispatcher = Dispatcher(
        db,
        clock,
        services.providers,
        services.templates,
        public_url=settings.base_url,
        lease_seconds=settings.lease_seconds,
    )
    policy = OutboundPolicy.allowing(settings.outbound_allow)
    campaigns = CampaignLoop(
        RunWorker(db, clock, lease=timedelta(seconds=max(settings.lease_seconds, 1)))
    )
    services.extras["wake_campaigns"] = campaigns.wake
    copy = DuckDbCopy(settings.duckdb_copy) if settings.duckdb_copy else None
    services.extras["audience_copy"] = copy
    database_url = db.engine.url.render_as_string(hide_password=False)
    sources = SourceRegistry(db, clock, database_url, data_dir_for(database_url), profile_copy=copy)
    canvases = CanvasLoop(CanvasService(db, clock, sources))
    services.extras["canvases"] = canvases.service
    services.extras["wake_canvases"] = canvases.wake
    return Runtime(
        services,
        ConsumerLoop(db, clock, consumers(clock, copy)),
        DispatcherLoop(dispatcher),
        JourneyTimerLoop(db, clock, OutboundClient(policy)),
        AudienceLoop(db, clock),
        campaigns,
        canvases,
    )
