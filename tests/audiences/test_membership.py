"""Real-time membership through the running processor: entered, exited by time, backfills."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.audiences.membership.consumer import AudienceConsumer
from clarion.storage.base import EventFilter
from clarion.testing import FakeClock
from tests.audiences.live import apply, audience_events, send, settle
from tests.conftest import WorkspaceKeys

FREQUENT = """
kind: audience
name: frequent-buyers-se
definition:
  all:
    - trait: {path: country, op: eq, value: SE}
    - performed:
        event: Order Completed
        where: [{path: total, op: gte, value: 100}]
        count: {op: gte, value: 2}
        within: {last: 30, unit: days}
    - not:
        performed: {event: Account Closed}
"""


def test_entered_then_exited_when_the_window_passes(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, clock: FakeClock
) -> None:
    apply(client, ws, FREQUENT)
    settle(app, client)
    send(client, ws, "/v1/identify", {"userId": "sven", "traits": {"country": "SE"}})
    send(
        client,
        ws,
        "/v1/track",
        {"userId": "sven", "event": "Order Completed", "properties": {"total": 150}},
    )
    settle(app, client)
    assert audience_events(client, ws, "sven") == []  # one order is not enough
    clock.advance(days=10)
    send(
        client,
        ws,
        "/v1/track",
        {"userId": "sven", "event": "Order Completed", "properties": {"total": 120}},
    )
    send(
        client,
        ws,
        "/v1/track",
        {"userId": "sven", "event": "Order Completed", "properties": {"total": 500}},
    )  # still a member: no event
    settle(app, client)
    assert audience_events(client, ws, "sven") == [("audience.entered", "frequent-buyers-se")]
    clock.advance(days=20)  # the first order leaves the window; two remain
    settle(app, client)
    assert len(audience_events(client, ws, "sven")) == 1
    clock.advance(days=10)  # exactly 30 days after the second and third orders
    settle(app, client)
    assert audience_events(client, ws, "sven") == [
        ("audience.entered", "frequent-buyers-se"),
        ("audience.exited", "frequent-buyers-se"),
    ]


def test_a_new_audience_is_backfilled_without_qualification_events(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    for user, country in (("a", "SE"), ("b", "SE"), ("c", "NO")):
        send(client, ws, "/v1/identify", {"userId": user, "traits": {"country": country}})
    settle(app, client)
    apply(
        client,
        ws,
        "kind: audience\nname: swedes\ndefinition: {trait: {path: country, op: eq, value: SE}}\n",
    )
    services = app.state.services
    with services.db.read() as tx:
        assert tx.audiences.status(ws.id, "swedes").status == "pending"
    settle(app, client)
    with services.db.read() as tx:
        status = tx.audiences.status(ws.id, "swedes")
        assert (status.status, status.count) == ("ready", 2)
    assert audience_events(client, ws, "a") == []
    send(client, ws, "/v1/identify", {"userId": "c", "traits": {"country": "SE"}})
    send(client, ws, "/v1/identify", {"userId": "a", "traits": {"country": "DK"}})
    settle(app, client)
    assert audience_events(client, ws, "c") == [("audience.entered", "swedes")]
    assert audience_events(client, ws, "a") == [("audience.exited", "swedes")]


def test_consent_changes_move_subscription_audiences(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(
        client, ws, "kind: audience\nname: mailable\ndefinition: {subscribed: {channel: email}}\n"
    )
    send(client, ws, "/v1/identify", {"userId": "m", "traits": {"email": "m@example.com"}})
    settle(app, client)
    assert audience_events(client, ws, "m") == [("audience.entered", "mailable")]
    pid = client.get("/v1/profiles", params={"identity": "user_id:m"}, headers=ws.auth).json()
    client.put(
        f"/v1/profiles/{pid['id']}/subscriptions",
        headers=ws.auth,
        json={"subscriptions": [{"channel": "email", "status": "unsubscribed"}]},
    )
    settle(app, client)
    assert audience_events(client, ws, "m")[-1] == ("audience.exited", "mailable")


def test_a_journey_starts_on_real_qualification(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(
        client,
        ws,
        """
kind: audience
name: big-spenders
definition: {performed: {event: Order Completed, where: [{path: total, op: gte, value: 1000}]}}
---
kind: journey
name: thank-you
entry: {type: audience, audience: big-spenders, when: entered}
nodes:
  - {id: mark, type: update_profile, set: {thanked: true}, next: done}
  - {id: done, type: end}
""",
    )
    assert client.post("/v1/journeys/thank-you/publish", headers=ws.auth).status_code == 200
    send(
        client,
        ws,
        "/v1/track",
        {"userId": "rich", "event": "Order Completed", "properties": {"total": 5000}},
    )
    send(
        client,
        ws,
        "/v1/track",
        {"userId": "modest", "event": "Order Completed", "properties": {"total": 50}},
    )
    settle(app, client)
    settle(app, client)

    def traits(user: str) -> dict[str, Any]:
        return dict(
            client.get(
                "/v1/profiles", params={"identity": f"user_id:{user}"}, headers=ws.auth
            ).json()["traits"]
        )

    assert traits("rich") == {"thanked": True}
    assert traits("modest") == {}


def test_merges_and_erasure_update_memberships(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(
        client,
        ws,
        "kind: audience\nname: viewers\ndefinition: {performed: {event: Product Viewed}}\n",
    )
    send(client, ws, "/v1/track", {"anonymousId": "anon-1", "event": "Product Viewed"})
    settle(app, client)
    send(client, ws, "/v1/identify", {"userId": "known", "traits": {"x": 1}})
    settle(app, client)
    send(client, ws, "/v1/identify", {"userId": "known", "anonymousId": "anon-1"})
    settle(app, client)
    services = app.state.services
    pid = client.get("/v1/profiles", params={"identity": "user_id:known"}, headers=ws.auth).json()[
        "id"
    ]
    with services.db.read() as tx:
        assert tx.audiences.all_members(ws.id, "viewers") == {pid}
    assert client.delete(f"/v1/profiles/{pid}", headers=ws.auth).status_code == 200
    with services.db.read() as tx:
        assert tx.audiences.all_members(ws.id, "viewers") == set()


def test_with_no_audience_anywhere_the_consumer_reads_nothing_and_backfill_still_counts(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    consumer = AudienceConsumer(app.state.services.clock)
    with app.state.services.db.read() as tx:
        assert consumer.reads_in(tx) == EventFilter.nothing()
    send(client, ws, "/v1/identify", {"userId": "early", "traits": {"country": "SE"}})
    for total in (150, 200):
        body = {"userId": "early", "event": "Order Completed", "properties": {"total": total}}
        send(client, ws, "/v1/track", body)
    settle(app, client)  # passed over: no audience needs them yet
    apply(client, ws, FREQUENT)
    with app.state.services.db.read() as tx:
        assert consumer.reads_in(tx) == EventFilter.all_but("audience.entered", "audience.exited")
    settle(app, client)  # the new audience is backfilled from the stored events
    with app.state.services.db.read() as tx:
        status = tx.audiences.status(ws.id, "frequent-buyers-se")
        assert (status.status, status.count) == ("ready", 1)
    body = {"userId": "early", "event": "Account Closed"}
    send(client, ws, "/v1/track", body)  # read in real time now
    settle(app, client)
    assert audience_events(client, ws, "early") == [("audience.exited", "frequent-buyers-se")]
