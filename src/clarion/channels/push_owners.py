"""The `push-subscriptions` consumer: a web push subscription belongs to the profile that got it.

`POST /v1/push/subscriptions` stores a subscription before the identity stage
has resolved (or created) the visitor's profile, so it may have no owner yet.
This consumer reads the stamped `Push Subscribed` events and records their
profile as the owner, so that erasing that profile erases the subscription.
"""

from __future__ import annotations

from clarion.channels.webpush import PREFIX
from clarion.profiles import IDENTITY_STAGE
from clarion.storage.base import ConsumerBatch, EventFilter, Tx
from clarion.surfaces import store

PUSH_SUBSCRIBED = "Push Subscribed"


class PushSubscriptionOwners:
    """Claims each newly registered subscription for its profile (a `Consumer`)."""

    name = "push-subscriptions"
    after = IDENTITY_STAGE
    reads = EventFilter(names=frozenset({PUSH_SUBSCRIBED}))
    """Only `Push Subscribed` events concern it: the poll skips the rest of the log."""

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        for event in batch.events:
            if event.event != PUSH_SUBSCRIBED or not event.profile_id:
                continue
            context = event.payload.get("context")
            device = context.get("device") if isinstance(context, dict) else None
            token = device.get("token") if isinstance(device, dict) else None
            if isinstance(token, str) and token.startswith(PREFIX):
                store.claim_subscription(
                    tx, event.workspace_id, token.removeprefix(PREFIX), event.profile_id
                )
