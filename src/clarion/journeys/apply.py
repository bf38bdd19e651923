"""Applying a step's effects, in the transaction that processed its input.

Messages go to the delivery outbox, timers and HTTP calls to the timer table,
profile updates and journey events to the event log, statistics to counters:
all of it commits with the instance's new state, or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clarion.clock import from_micros
from clarion.delivery import enqueue
from clarion.ids import new_id
from clarion.journeys.io import (
    CallHttp,
    Count,
    Effect,
    Emit,
    EnterJourney,
    ScheduleTimer,
    SendMessage,
    UpdateProfile,
)
from clarion.journeys.state import Instance
from clarion.model.events import NewEvent
from clarion.model.messages import Category, MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind

if TYPE_CHECKING:
    from clarion.journeys.engine import JourneyEngine


def apply_effects(
    engine: JourneyEngine, instance: Instance, effects: list[Effect], now: datetime
) -> None:
    """Persist the instance and carry out its effects in `engine.tx`."""
    tx, ws = engine.tx, instance.workspace_id
    now_us = engine.now_us
    tx.journeys.save([instance.to_json()], now_us)
    running = engine.catalog.journeys[instance.journey]
    pins = running.pinned(instance.version)
    intents: list[MessageIntent] = []
    events: list[NewEvent] = []
    timers: list[dict[str, Any]] = []
    counts = []
    enter: list[EnterJourney] = []
    for effect in effects:
        if isinstance(effect, SendMessage):
            source = MessageSource(
                SourceKind.JOURNEY,
                instance.journey_id,
                instance.journey,
                instance.version,
                instance.id,
                effect.node,
                effect.visit,
            )
            intents.append(
                MessageIntent(
                    ws,
                    effect.channel,
                    effect.template,
                    source,
                    profile_id=instance.profile_id,
                    category=Category(effect.category),
                    template_version=pins.get(effect.template),
                    subscription_group=effect.subscription_group,
                    context=instance.context,
                    event=instance.context.get("entry") or None,
                )
            )
        elif isinstance(effect, ScheduleTimer):
            timers.append(_timer(instance, effect.key, effect.due_us, "timer", None))
        elif isinstance(effect, CallHttp):
            request = {
                "node": effect.node,
                "method": effect.method,
                "url": effect.url,
                "headers": effect.headers,
                "body": effect.body,
                "timeout_s": effect.timeout_s,
                "retries": effect.retries,
            }
            timers.append(_timer(instance, effect.key, now_us, "http", request))
        elif isinstance(effect, UpdateProfile):
            traits = {**effect.set, **{key: None for key in effect.unset}}
            events.append(
                NewEvent(
                    type="identify",
                    message_id=f"journey:{new_id()}",
                    profile_id=instance.profile_id,
                    payload={"traits": traits},
                    timestamp=now,
                    origin="internal",
                )
            )
        elif isinstance(effect, Emit):
            events.append(
                NewEvent(
                    type="track",
                    message_id=f"{effect.event}:{new_id()}",
                    event=effect.event,
                    profile_id=instance.profile_id,
                    properties=effect.properties,
                    timestamp=now,
                    origin="internal",
                )
            )
        elif isinstance(effect, Count):
            counts.append(
                (ws, instance.journey, instance.version, effect.node, effect.counter, effect.delta)
            )
        elif isinstance(effect, EnterJourney):
            enter.append(effect)
    if intents:
        enqueue(tx, intents, now)
        engine.messages_queued += len(intents)
    if timers:
        tx.journeys.schedule(timers)
    if events:
        tx.events.append(ws, events, now)
    if counts:
        tx.journeys.count(counts)
    for jump in enter:
        engine.enter_by_name(jump.journey, instance.profile_id, None, jump.context)


def _timer(
    instance: Instance, key: str, due_us: int, kind: str, payload: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "instance_id": instance.id,
        "key": key,
        "workspace_id": instance.workspace_id,
        "profile_id": instance.profile_id,
        "due_at": due_us,
        "kind": kind,
        "payload": payload,
    }


def event_dict(event: Any) -> dict[str, Any]:
    """A logged event as steps see it."""
    return {
        "type": event.type,
        "event": event.event,
        "properties": event.properties,
        "timestamp": from_micros(event.timestamp_us).isoformat(),
        "timestamp_us": event.timestamp_us,
        "message_id": event.message_id,
    }
