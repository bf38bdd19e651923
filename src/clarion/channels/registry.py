"""The providers of issue 10, as factories the `ProviderRegistry` builds from channel settings.

`channel_factories(db, clock, outbound, public_url)` gives every provider name a
workspace may configure with `PUT /v1/channels/{channel}`: `twilio` (sms),
`fcm`, `apns`, `webpush` and `push` (all three behind one router), `webhook`,
`direct_mail`, and `surfaces` (the default of in_app, content_card, web, code).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from clarion.channels.apns import ApnsProvider
from clarion.channels.base import Provider
from clarion.channels.direct_mail import DirectMailProvider
from clarion.channels.fcm import FcmProvider
from clarion.channels.push import PushRouter
from clarion.channels.twilio import TwilioSms
from clarion.channels.webhook import WebhookProvider
from clarion.channels.webpush import WebPushProvider
from clarion.clock import Clock
from clarion.delivery.providers import ProviderFactory, ProviderRegistry
from clarion.model.errors import InvalidInput
from clarion.outbound import Outbound, OutboundPolicy
from clarion.storage.base import Database
from clarion.surfaces import store
from clarion.surfaces.provider import INBOUND_CHANNELS, SurfaceProvider


class _Stores:
    """The database side of providers: dead tokens, subscriptions, direct mail runs."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    async def remove_token(self, workspace_id: str, token: str) -> None:
        def run() -> None:
            with self.db.write() as tx:
                store.remove_device_token(tx, workspace_id, token)

        await asyncio.to_thread(run)

    def subscription(
        self, workspace_id: str, sub_id: str, profile_id: str | None
    ) -> dict[str, Any] | None:
        with self.db.write() as tx:
            found = store.get_subscription(tx, workspace_id, sub_id)
            if found is not None and profile_id and found["profile_id"] != profile_id:
                store.claim_subscription(tx, workspace_id, sub_id, profile_id)
        return found

    def mail_rows(
        self, workspace_id: str, rows: Sequence[dict[str, Any]]
    ) -> dict[str, list[dict[str, Any]]]:
        with self.db.write() as tx:
            store.put_mail_rows(tx, rows)
            return {run: store.mail_rows(tx, workspace_id, run) for run in {r["run"] for r in rows}}

    def record_run(
        self, workspace_id: str, run: str, csv_path: str, parquet_path: str, rows: int
    ) -> None:
        with self.db.write() as tx:
            store.record_mail_run(
                tx, workspace_id, run, csv_path, parquet_path, rows, self.clock.now()
            )


def channel_factories(
    db: Database, outbound: Outbound, public_url: str
) -> dict[str, ProviderFactory]:
    """Provider name -> factory of `(settings, clock) -> Provider`."""
    stores: _Stores | None = None

    def stores_for(clock: Clock) -> _Stores:
        nonlocal stores
        if stores is None:
            stores = _Stores(db, clock)
        return stores

    def twilio(settings: dict[str, Any], clock: Clock) -> Provider:
        return TwilioSms(settings, outbound.client(), public_url, clock)

    def fcm(settings: dict[str, Any], clock: Clock) -> Provider:
        return FcmProvider(settings, outbound.client(), clock, stores_for(clock).remove_token)

    def apns(settings: dict[str, Any], clock: Clock) -> Provider:
        client = outbound.client(http1=False, http2=True)
        return ApnsProvider(settings, client, clock, stores_for(clock).remove_token)

    def webpush(settings: dict[str, Any], clock: Clock) -> Provider:
        s = stores_for(clock)
        return WebPushProvider(settings, outbound.client(), clock, s.subscription, s.remove_token)

    def push(settings: dict[str, Any], clock: Clock) -> Provider:
        parts = {name: settings.get(name) for name in ("fcm", "apns", "webpush")}
        if not any(isinstance(v, Mapping) for v in parts.values()):
            raise InvalidInput(
                "the push provider needs settings.fcm, settings.apns or settings.webpush",
                field="settings",
            )
        built = {
            name: factory(dict(value), clock)
            for name, factory, value in (
                ("fcm", fcm, parts["fcm"]),
                ("apns", apns, parts["apns"]),
                ("webpush", webpush, parts["webpush"]),
            )
            if isinstance(value, Mapping)
        }
        return PushRouter(**built)

    def webhook(settings: dict[str, Any], clock: Clock) -> Provider:
        return WebhookProvider(settings, outbound.client(), clock)

    def direct_mail(settings: dict[str, Any], clock: Clock) -> Provider:
        s = stores_for(clock)
        return DirectMailProvider(settings, s.mail_rows, s.record_run)

    def surfaces(settings: dict[str, Any], clock: Clock) -> Provider:
        return SurfaceProvider(db, clock, settings)

    return {
        "twilio": twilio,
        "fcm": fcm,
        "apns": apns,
        "webpush": webpush,
        "push": push,
        "webhook": webhook,
        "direct_mail": direct_mail,
        "surfaces": surfaces,
    }


def inbound_defaults() -> dict[str, tuple[str, dict[str, Any]]]:
    """In-app, content cards, web and code go to the surfaces unless configured otherwise."""
    return {channel: ("surfaces", {}) for channel in INBOUND_CHANNELS}


def install_channels(
    registry: ProviderRegistry, db: Database, outbound_allow: str, public_url: str
) -> Outbound:
    """Register the providers on `registry`, surfaces as the inbound channels' default;
    returns the `Outbound` every provider's client comes from."""
    outbound = Outbound(OutboundPolicy.allowing(outbound_allow))
    for name, factory in channel_factories(db, outbound, public_url).items():
        registry.register(name, factory)
    for channel, (name, settings) in inbound_defaults().items():
        registry.set_default(channel, name, settings)
    return outbound
