"""Applying a step's effects to the round's unit of work.

Messages become outbox intents, timers and HTTP calls timer rows, profile
updates and journey events log events, statistics counter increments: all of
it written when the round flushes, in the transaction that processed the input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clarion.clock import from_micros
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
from clarion.model.messages import Category, MessageIntent

if TYPE_CHECKING:
    from clarion.journeys.engine import JourneyEngine


def apply_effects(engine: JourneyEngine, instance: Instance, effects: list[Effect]) -> None:
    """Record the instance's new state and its effects in the engine's unit of work."""
    uow = engine.uow
    uow.save(instance.to_json())
    for effect in effects:
        if type(effect) is Count:  # most effects are counts: no dispatch for them
            uow.count(instance.journey, instance.version, effect.node, effect.counter, effect.delta)
        else:
            _APPLY[type(effect)](engine, instance, effect)


def _send(engine: JourneyEngine, instance: Instance, effect: SendMessage) -> None:
    source = instance.message_source(effect.node, effect.visit)
    pins = engine.catalog.journeys[instance.journey].pinned(instance.version)
    intent = MessageIntent(
        instance.workspace_id,
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
    # The step's id is this intent's (`world_for` derives it from the same source and
    # recipient): the intent keeps it rather than hashing again.
    object.__setattr__(intent, "_message_id", effect.message_id)
    engine.uow.intents.append(intent)


def _schedule(engine: JourneyEngine, instance: Instance, effect: ScheduleTimer) -> None:
    engine.uow.schedule(_timer(instance, effect.key, effect.due_us, "timer", None))


def _call(engine: JourneyEngine, instance: Instance, effect: CallHttp) -> None:
    request = {
        "node": effect.node,
        "method": effect.method,
        "url": effect.url,
        "headers": effect.headers,
        "body": effect.body,
        "timeout_s": effect.timeout_s,
        "retries": effect.retries,
    }
    engine.uow.schedule(_timer(instance, effect.key, engine.uow.now_us, "http", request))


def _update(engine: JourneyEngine, instance: Instance, effect: UpdateProfile) -> None:
    traits = {**effect.set, **{key: None for key in effect.unset}}
    engine.uow.events.append(
        NewEvent(
            type="identify",
            message_id=f"journey:{new_id()}",
            profile_id=instance.profile_id,
            payload={"traits": traits},
            timestamp=engine.uow.now,
            origin="internal",
        )
    )


def _emit(engine: JourneyEngine, instance: Instance, effect: Emit) -> None:
    engine.uow.events.append(
        NewEvent(
            type="track",
            message_id=f"{effect.event}:{new_id()}",
            event=effect.event,
            profile_id=instance.profile_id,
            properties=effect.properties,
            timestamp=engine.uow.now,
            origin="internal",
        )
    )


def _jump(engine: JourneyEngine, instance: Instance, effect: EnterJourney) -> None:
    engine.enter(effect.journey, instance.profile_id, None, effect.context)


_APPLY: dict[type, Callable[[JourneyEngine, Instance, Any], None]] = {
    SendMessage: _send,
    ScheduleTimer: _schedule,
    CallHttp: _call,
    UpdateProfile: _update,
    Emit: _emit,
    EnterJourney: _jump,
}


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
