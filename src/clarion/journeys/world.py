"""What a step may read: the profile (as much as its conditions need), from the round's cache."""

from __future__ import annotations

from clarion.audiences.memory import EventView, ProfileView
from clarion.journeys.catalog import Catalog
from clarion.journeys.io import World
from clarion.journeys.state import Instance
from clarion.journeys.unit_of_work import UnitOfWork
from clarion.model.messages import message_id_for

EVENTS_PER_CONDITION = 1_000
"""Newest events of a profile that conditions on events look at."""


def profile_view(
    catalog: Catalog, uow: UnitOfWork, profile_id: str, journey: str, version: int
) -> ProfileView:
    """The profile for a step; events and consent only when the journey's conditions read them.

    Built once per profile and journey version in a round (the round's reads are
    cached alike: a profile's changes reach journeys through the log, next round)."""
    key = (profile_id, journey, version)
    view = uow.views.get(key)
    if view is None:
        view = uow.views[key] = _view(catalog, uow, profile_id, journey, version)
    return view


def _view(
    catalog: Catalog, uow: UnitOfWork, profile_id: str, journey: str, version: int
) -> ProfileView:
    tx, ws = catalog.tx, catalog.workspace_id
    record = uow.profile(profile_id)
    needs = catalog.needs(journey, version)
    events: list[EventView] = []
    if needs.events:
        recent = tx.events.for_profile(ws, profile_id, EVENTS_PER_CONDITION)
        events = [EventView.of(e) for e in reversed(recent) if e.event in needs.events]
    subscriptions: dict[tuple[str, str], str] = {}
    if needs.consent:
        subscriptions = {
            (s.channel, s.group): s.status.value for s in tx.consent.profile_states(ws, profile_id)
        }
    if record is None:
        return ProfileView(profile_id, events=events)
    return ProfileView(
        profile_id,
        record.traits,
        sorted(record.identities),
        subscriptions,
        (),
        events,
        record.timezone,
    )


def world_for(
    catalog: Catalog, uow: UnitOfWork, instance: Instance, now_us: int, caps: dict[str, int]
) -> World:
    """The world of one step of `instance`."""
    running = catalog.journeys[instance.journey]
    spec = catalog.spec(instance.journey, instance.version)

    def message_id(node: str, visit: int) -> str:
        source = instance.message_source(node, visit)
        return message_id_for(instance.workspace_id, source, instance.profile_id, None)

    return World(
        now_us=now_us,
        profile=profile_view(catalog, uow, instance.profile_id, instance.journey, instance.version),
        resolver=catalog.resolver,
        paused=running.state.status == "paused",
        caps=caps,
        message_id=message_id,
        default_timezone=spec.timezone if spec else "UTC",
    )
