"""A journey message's id: the one the walk records is the outbox row's, derived from its
source and recipient (message outcome reactions match on it)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from clarion.model.messages import MessageSource, message_id_for
from clarion.model.outcomes import SourceKind
from clarion.storage.schema import journey_instances, outbox
from tests.conftest import WorkspaceKeys
from tests.journeys.harness import apply_yaml, publish, settle, track

JOURNEY = """
kind: template
name: note
channel: email
from: shop@example.com
subject: "Hi"
text: "hi"
---
kind: journey
name: twice
entry: {type: event, event: Viewed}
nodes:
  - {id: first, type: message, channel: email, template: note, next: pause}
  - {id: pause, type: wait, duration: 1h, next: second}
  - {id: second, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
"""


def test_the_walk_records_the_id_of_the_message_in_the_outbox(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    apply_yaml(client, ws, JOURNEY)
    publish(client, ws, "twice")
    body = {"userId": "ann", "traits": {"email": "ann@example.com"}}
    assert client.post("/v1/identify", json=body, auth=(ws.write_key, "")).status_code == 200
    track(client, ws, "ann", "Viewed")
    settle(app, client)
    db = app.state.services.db
    with db.read() as tx:
        (state,) = tx.conn.execute(select(journey_instances.c.state)).scalars().all()
        stored = tx.conn.execute(select(outbox.c.id, outbox.c.profile_id)).all()
    source = MessageSource(
        SourceKind.JOURNEY,
        state["journey_id"],
        "twice",
        state["version"],
        state["id"],
        "first",
        0,
    )
    expected = message_id_for(ws.id, source, state["profile_id"], None)
    assert state["sent"] == {"first": expected}
    assert [tuple(row) for row in stored] == [(expected, state["profile_id"])]
