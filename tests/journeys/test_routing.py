"""Which events reach the engine: the consumer loads only profiles that an event can
concern (entries, exits, merges, and events a waiting walk reacts to)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.journeys.consumer import JourneyConsumer
from clarion.storage.base import EventFilter
from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.journeys.harness import apply_yaml, messages_to, path_of, publish, settle, track

JOURNEY = """
kind: template
name: note
channel: email
from: shop@example.com
subject: "Thanks"
text: "thanks"
---
kind: journey
name: browse
entry: {type: event, event: Viewed}
nodes:
  - id: watch
    type: reaction
    events: [{event: Bought, next: thank}]
    timeout: 1d
    timeout_next: done
  - {id: thank, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
"""


def customer(client: TestClient, ws: WorkspaceKeys, user: str) -> None:
    body = {"userId": user, "traits": {"email": f"{user}@example.com"}}
    assert client.post("/v1/identify", json=body, auth=(ws.write_key, "")).status_code == 200


def test_a_reaction_sees_an_event_of_the_same_batch_as_the_entry(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply_yaml(client, ws, JOURNEY)
    publish(client, ws, "browse")
    customer(client, ws, "quick")
    settle(app, client)
    track(client, ws, "quick", "Viewed")
    track(client, ws, "quick", "Bought")  # before the consumer ran: one batch with the entry
    settle(app, client)
    assert len(messages_to(client, ws, "quick")) == 1
    assert path_of(client, ws, "quick")[0]["status"] == "completed"


def test_a_waiting_walk_reacts_to_its_event_only(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(client, ws, JOURNEY)
    publish(client, ws, "browse")
    for user in ("buyer", "browser"):
        customer(client, ws, user)
    settle(app, client)
    for user in ("buyer", "browser"):
        track(client, ws, user, "Viewed")
    settle(app, client)
    clock.advance(hours=1)
    track(client, ws, "buyer", "Bought")  # a later batch: found through journey_waits
    track(client, ws, "browser", "Scrolled")  # concerns no journey
    settle(app, client)
    assert [len(messages_to(client, ws, u)) for u in ("buyer", "browser")] == [1, 0]
    assert path_of(client, ws, "browser")[0]["status"] == "waiting"
    clock.advance(days=1)
    settle(app, client)
    assert path_of(client, ws, "browser")[0]["status"] == "completed"
    assert messages_to(client, ws, "browser") == []


def test_with_no_journey_anywhere_the_consumer_reads_nothing_then_everything_once_one_runs(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    consumer = JourneyConsumer(app.state.services.clock)
    with app.state.services.db.read() as tx:
        assert consumer.reads_in(tx) == EventFilter.nothing()
    customer(client, ws, "early")
    track(client, ws, "early", "Viewed")  # no journey yet: passed over
    settle(app, client)
    apply_yaml(client, ws, JOURNEY)
    with app.state.services.db.read() as tx:
        assert consumer.reads_in(tx) == EventFilter.nothing()  # applied, not yet published
    publish(client, ws, "browse")
    with app.state.services.db.read() as tx:
        assert consumer.reads_in(tx) is None
    track(client, ws, "early", "Viewed")
    settle(app, client)
    assert [walk["status"] for walk in path_of(client, ws, "early")] == ["waiting"]
