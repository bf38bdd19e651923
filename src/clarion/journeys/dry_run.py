"""Test mode: walk test profiles through a journey version in memory.

Waits are skipped (the simulated clock jumps to each deadline), reactions take
the event given for them or their timeout, custom actions are not called (an
empty 200 answer stands in), held messages are released. Nothing is stored and
nothing is sent: the answer is the path each profile took and the messages,
calls and profile updates it would have caused.
"""

from __future__ import annotations

from typing import Any

from clarion.audiences.memory import ProfileView
from clarion.audiences.resolver import Resolver
from clarion.journeys.io import (
    CallHttp,
    Enter,
    EventInput,
    HttpResult,
    Input,
    Resume,
    SendMessage,
    TimerFired,
    UpdateProfile,
    World,
)
from clarion.journeys.state import Instance
from clarion.journeys.step import step
from clarion.model.durations import micros
from clarion.model.journeys import JourneySpec

MAX_INPUTS = 200


def dry_run(
    spec: JourneySpec,
    profile: ProfileView,
    now_us: int,
    resolver: Resolver,
    entry_event: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The walk of one test profile; `events` are offered to reactions in order."""
    pending = list(events or [])
    instance = Instance(
        "dry-run", "", "", spec.name, 0, profile.id, now_us, now_us + micros(spec.timeout)
    )
    messages: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    clock = now_us
    given: Input = Enter(entry_event)
    for _ in range(MAX_INPUTS):
        world = World(
            now_us=clock,
            profile=profile,
            resolver=resolver,
            default_timezone=spec.timezone,
            message_id=lambda node, visit: f"test:{node}:{visit}",
        )
        instance, effects = step(spec, instance, given, world)
        for effect in effects:
            if isinstance(effect, SendMessage):
                messages.append(
                    {
                        "node": effect.node,
                        "channel": effect.channel,
                        "template": effect.template,
                        "category": effect.category,
                    }
                )
            elif isinstance(effect, CallHttp):
                calls.append(
                    {
                        "node": effect.node,
                        "method": effect.method,
                        "url": effect.url,
                        "body": effect.body,
                    }
                )
            elif isinstance(effect, UpdateProfile):
                updates.append({"set": effect.set, "unset": effect.unset})
        waiting = instance.waiting
        if instance.done or waiting is None:
            break
        if waiting.kind == "http":
            given = HttpResult(waiting.key, 200, {})
        elif waiting.kind == "held":
            given = Resume()
        elif waiting.kind == "events" and pending:
            given = EventInput(pending.pop(0))
        else:
            clock = max(clock, waiting.due_us or clock)
            given = TimerFired(waiting.key)
    return {
        "profile_id": profile.id,
        "status": instance.status,
        "exit_reason": instance.exit_reason,
        "path": [{"node": node, "at_us": at, "note": note} for node, at, note in instance.history],
        "messages": messages,
        "calls": calls,
        "updates": updates,
    }
