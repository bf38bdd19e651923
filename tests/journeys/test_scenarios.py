"""Journeys from the issue: onboarding, birthday, qualification, custom actions, timeouts,
versions in flight, reactions to message outcomes, pause and resume."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.testing import FakeClock
from tests.conftest import WorkspaceKeys
from tests.journeys.harness import apply_yaml, messages_to, path_of, publish, settle, track

TEMPLATES = """
kind: template
name: note
channel: email
from: shop@example.com
subject: "{{ context.subject | default: 'Hello' }} {{ profile.first_name }}"
text: "coupon={{ context.coupon }}"
"""


def person(client: TestClient, ws: WorkspaceKeys, user: str, **traits: Any) -> str:
    body: dict[str, Any] = {"userId": user, "traits": {"email": f"{user}@example.com", **traits}}
    timezone = traits.pop("timezone", None)
    if timezone:
        body["context"] = {"timezone": timezone}
        body["traits"].pop("timezone", None)
    assert client.post("/v1/identify", json=body, auth=(ws.write_key, "")).status_code == 200
    return user


def enter(
    client: TestClient, ws: WorkspaceKeys, journey: str, user: str, **context: Any
) -> dict[str, Any]:
    response = client.post(
        f"/v1/journeys/{journey}/entries",
        headers=ws.auth,
        json={"user_id": user, "context": context},
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


@pytest.fixture
def base(app: FastAPI, client: TestClient, ws: WorkspaceKeys) -> WorkspaceKeys:
    apply_yaml(client, ws, TEMPLATES)
    return ws


def test_onboarding_series_over_days(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: onboarding
entry: {type: event, event: Signed Up}
nodes:
  - {id: welcome, type: message, channel: email, template: note, next: day1}
  - {id: day1, type: wait, duration: 1d, next: activated}
  - id: activated
    type: condition
    branches:
      - {when: {performed: {event: Project Created}}, next: done}
    otherwise: nudge
  - {id: nudge, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "onboarding")
    for user in ("busy", "idle"):
        person(client, base, user, first_name=user)
        settle(app, client)
        track(client, base, user, "Signed Up")
    settle(app, client)
    track(client, base, "busy", "Project Created")
    clock.advance(days=1)
    settle(app, client)
    assert len(messages_to(client, base, "busy")) == 1  # welcome only: already active
    assert len(messages_to(client, base, "idle")) == 2  # welcome and the nudge


def test_birthday_at_nine_local_time(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: birthday
entry: {type: api}
nodes:
  - id: until-birthday
    type: wait
    until_date: {path: profile.birthday, yearly: true, at: "09:00"}
    next: greet
  - {id: greet, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "birthday")
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    person(
        client, base, "bday", first_name="Bea", birthday="1990-03-14", timezone="Europe/Stockholm"
    )
    person(client, base, "nodate", first_name="No")
    settle(app, client)
    enter(client, base, "birthday", "bday")
    enter(client, base, "birthday", "nodate")
    settle(app, client)
    assert len(messages_to(client, base, "nodate")) == 1  # no date: the wait ends at once
    clock.set(datetime(2026, 3, 14, 7, 59, tzinfo=UTC))  # 08:59 in Stockholm
    settle(app, client)
    assert messages_to(client, base, "bday") == []
    clock.set(datetime(2026, 3, 14, 8, 0, tzinfo=UTC))  # 09:00 in Stockholm
    settle(app, client)
    assert len(messages_to(client, base, "bday")) == 1


def test_audience_qualification_starts_a_journey(
    app: FastAPI, client: TestClient, base: WorkspaceKeys
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: audience
name: lapsed
definition: {not: {performed: {event: Order Completed, within: {last: 90, unit: days}}}}
---
kind: journey
name: win-back
entry: {type: audience, audience: lapsed, when: entered}
nodes:
  - {id: send, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "win-back")
    person(client, base, "gone")
    settle(app, client)
    qualified = client.post(
        "/v1/track",
        headers=base.auth,
        json={"userId": "gone", "event": "audience.entered", "properties": {"audience": "lapsed"}},
    )
    assert qualified.status_code == 200
    other = client.post(
        "/v1/track",
        headers=base.auth,
        json={"userId": "gone", "event": "audience.entered", "properties": {"audience": "vip"}},
    )
    assert other.status_code == 200
    settle(app, client)
    assert len(messages_to(client, base, "gone")) == 1


class Webhook(BaseHTTPRequestHandler):
    """A local endpoint for custom actions: answers what the test sets."""

    answers: list[tuple[int, dict[str, Any]]] = []
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        Webhook.received.append(
            {
                "path": self.path,
                "body": self.rfile.read(length).decode(),
                "auth": self.headers.get("Authorization"),
            }
        )
        status, body = Webhook.answers.pop(0)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Webhook.answers, Webhook.received = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_custom_action_saves_its_answer_and_takes_the_error_branch(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, webhook: str
) -> None:
    apply_yaml(
        client,
        base,
        f"""
kind: journey
name: coupon
entry: {{type: api}}
nodes:
  - id: ask
    type: custom_action
    url: "{webhook}/coupons/{{{{ profile.id }}}}"
    headers: {{Authorization: "Bearer secret"}}
    body: '{{"name": "{{{{ profile.first_name }}}}", "order": "{{{{ context.order }}}}"}}'
    save: {{coupon: data.code}}
    next: send
    error_next: sorry
  - {{id: send, type: message, channel: email, template: note, next: done}}
  - {{id: sorry, type: update_profile, set: {{coupon_failed: true}}, next: done}}
  - {{id: done, type: end}}
""",
    )
    publish(client, base, "coupon")
    person(client, base, "lucky", first_name="Lu")
    person(client, base, "unlucky", first_name="Un")
    settle(app, client)
    Webhook.answers = [(200, {"data": {"code": "SAVE10"}}), (500, {}), (500, {}), (500, {})]
    enter(client, base, "coupon", "lucky", order="o-1")
    settle(app, client)
    assert json.loads(Webhook.received[0]["body"]) == {"name": "Lu", "order": "o-1"}
    assert Webhook.received[0]["auth"] == "Bearer secret"
    [message] = messages_to(client, base, "lucky")
    assert message["text"] == "coupon=SAVE10"
    enter(client, base, "coupon", "unlucky")
    settle(app, client)
    assert len(Webhook.received) == 4  # one call, two retries on 5xx
    assert messages_to(client, base, "unlucky") == []
    profile = client.get(
        "/v1/profiles", params={"identity": "user_id:unlucky"}, headers=base.auth
    ).json()
    assert profile["traits"]["coupon_failed"] is True
    [walk] = path_of(client, base, "unlucky")
    assert [h["node"] for h in walk["history"]][:2] == ["ask", "ask"]
    assert walk["history"][1]["note"].startswith("failed: status 500")


def test_custom_actions_cannot_reach_private_addresses_by_default(
    app: FastAPI, client: TestClient, base: WorkspaceKeys
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: probe
entry: {type: api}
nodes:
  - {id: ask, type: custom_action, url: "http://169.254.169.254/latest/meta-data/", next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "probe")
    person(client, base, "p")
    settle(app, client)
    enter(client, base, "probe", "p")
    settle(app, client)
    [walk] = path_of(client, base, "p")
    assert walk["status"] == "exited" and "custom action failed" in walk["exit_reason"]


def test_the_global_timeout_ends_a_long_wait(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: slow
entry: {type: api}
timeout: 3d
nodes:
  - {id: long, type: wait, duration: 10d, next: send}
  - {id: send, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "slow")
    person(client, base, "t")
    settle(app, client)
    enter(client, base, "slow", "t")
    clock.advance(days=3)
    settle(app, client)
    [walk] = path_of(client, base, "t")
    assert (walk["status"], walk["exit_reason"]) == ("exited", "journey timeout")
    clock.advance(days=8)
    settle(app, client)
    assert messages_to(client, base, "t") == []


def test_profiles_in_flight_finish_on_their_version(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    journey = """
kind: journey
name: versions
entry: {{type: api}}
nodes:
  - {{id: pause, type: wait, duration: 1h, next: send}}
  - {{id: send, type: update_profile, set: {{got: "{label}"}}, next: done}}
  - {{id: done, type: end}}
"""
    apply_yaml(client, base, journey.format(label="v1"))
    publish(client, base, "versions")
    person(client, base, "early")
    person(client, base, "late")
    settle(app, client)
    enter(client, base, "versions", "early")
    apply_yaml(client, base, journey.format(label="v2"))
    assert publish(client, base, "versions")["version"] == 2
    enter(client, base, "versions", "late")
    clock.advance(hours=1)
    settle(app, client)

    def got(user: str) -> Any:
        return client.get(
            "/v1/profiles", params={"identity": f"user_id:{user}"}, headers=base.auth
        ).json()["traits"]["got"]

    assert (got("early"), got("late")) == ("v1", "v2")
    assert [w["version"] for w in path_of(client, base, "early")] == [1]


def test_react_to_an_open_or_time_out(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: follow-up
entry: {type: api}
nodes:
  - {id: first, type: message, channel: email, template: note, next: watch}
  - id: watch
    type: reaction
    events: [{outcome: opened, message_node: first, next: thanks}]
    timeout: 2d
    timeout_next: again
  - {id: thanks, type: update_profile, set: {engaged: true}, next: done}
  - {id: again, type: update_profile, set: {engaged: false}, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "follow-up")
    for user in ("reader", "ignorer"):
        person(client, base, user)
    settle(app, client)
    for user in ("reader", "ignorer"):
        enter(client, base, "follow-up", user)
    settle(app, client)
    [sent] = messages_to(client, base, "reader")
    opened = client.post(
        "/v1/track",
        headers=base.auth,
        json={
            "userId": "reader",
            "event": "message.opened",
            "properties": {"message_id": sent["message_id"]},
        },
    )
    assert opened.status_code == 200
    settle(app, client)
    clock.advance(days=2)
    settle(app, client)

    def engaged(user: str) -> Any:
        return (
            client.get("/v1/profiles", params={"identity": f"user_id:{user}"}, headers=base.auth)
            .json()["traits"]
            .get("engaged")
        )

    assert (engaged("reader"), engaged("ignorer")) == (True, False)


def test_pause_holds_messages_and_resume_releases_them(
    app: FastAPI, client: TestClient, base: WorkspaceKeys
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: held
entry: {type: api}
nodes:
  - {id: send, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "held")
    person(client, base, "h")
    settle(app, client)
    enter(client, base, "held", "h")
    settle(app, client)
    assert client.post("/v1/journeys/held/pause", headers=base.auth).status_code == 200
    assert enter(client, base, "held", "h")["entered"] is False  # paused: no new entries
    assert client.post("/v1/journeys/held/stop", headers=base.auth).status_code == 200
    assert client.post("/v1/journeys/held/resume", headers=base.auth).status_code == 409


def test_a_business_event_enters_every_member_with_its_payload(
    app: FastAPI, client: TestClient, base: WorkspaceKeys
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: audience
name: vips
definition: {trait: {path: vip, op: eq, value: true}}
---
kind: journey
name: flash-sale
entry: {type: business_event, event: Flash Sale Started, audience: vips}
nodes:
  - id: tell
    type: update_profile
    set: {offer: "{{ context.business_event.properties.discount }}"}
    next: done
  - {id: done, type: end}
""",
    )
    publish(client, base, "flash-sale")
    for user, vip in (("v1", True), ("v2", True), ("n1", False)):
        person(client, base, user, vip=vip)
    settle(app, client)
    started = client.post(
        "/v1/track",
        headers=base.auth,
        json={
            "userId": "ops-bot",
            "event": "Flash Sale Started",
            "properties": {"discount": "30%"},
        },
    )
    assert started.status_code == 200
    settle(app, client)

    def offer(user: str) -> Any:
        return (
            client.get("/v1/profiles", params={"identity": f"user_id:{user}"}, headers=base.auth)
            .json()["traits"]
            .get("offer")
        )

    assert [offer(u) for u in ("v1", "v2", "n1", "ops-bot")] == ["30%", "30%", None, None]


def test_a_read_audience_journey_enters_members_at_its_time_and_again(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    for user in ("r1", "r2"):
        person(client, base, user, plan="pro")
    settle(app, client)
    at = (clock.now().replace(microsecond=0) + timedelta(hours=1)).isoformat()
    apply_yaml(
        client,
        base,
        f"""
kind: audience
name: pros
definition: {{trait: {{path: plan, op: eq, value: pro}}}}
---
kind: journey
name: weekly-pro
entry: {{type: read_audience, audience: pros, at: "{at}", every: 7d}}
reentrance: {{mode: always}}
nodes:
  - {{id: send, type: message, channel: email, template: note, next: done}}
  - {{id: done, type: end}}
""",
    )
    publish(client, base, "weekly-pro")
    settle(app, client)
    assert messages_to(client, base, "r1") == []  # not before `at`
    clock.advance(hours=1)
    settle(app, client)
    assert [len(messages_to(client, base, u)) for u in ("r1", "r2")] == [1, 1]
    person(client, base, "r3", plan="pro")
    clock.advance(days=7)
    settle(app, client)
    assert [len(messages_to(client, base, u)) for u in ("r1", "r2", "r3")] == [2, 2, 1]


def test_a_paused_journey_holds_profiles_at_messages_until_resumed(
    app: FastAPI, client: TestClient, base: WorkspaceKeys, clock: FakeClock
) -> None:
    apply_yaml(
        client,
        base,
        """
kind: journey
name: careful
entry: {type: api}
nodes:
  - {id: soon, type: wait, duration: 1h, next: send}
  - {id: send, type: message, channel: email, template: note, next: done}
  - {id: done, type: end}
""",
    )
    publish(client, base, "careful")
    person(client, base, "c")
    settle(app, client)
    enter(client, base, "careful", "c")
    assert client.post("/v1/journeys/careful/pause", headers=base.auth).status_code == 200
    clock.advance(hours=1)
    settle(app, client)
    assert messages_to(client, base, "c") == []
    [walk] = path_of(client, base, "c")
    assert (walk["node"], walk["waiting"]["kind"]) == ("send", "held")
    resumed = client.post("/v1/journeys/careful/resume", headers=base.auth).json()
    assert resumed == {"journey": "careful", "status": "live", "released": 1}
    settle(app, client)
    assert len(messages_to(client, base, "c")) == 1
