"""Templates: accepted as written, checked when saved, versioned, rendered for preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clarion.cli.main import app as cli
from tests.conftest import LiveServer, WorkspaceKeys
from tests.delivery.harness import CART_REMINDER, apply, identify

# The YAML of the delivery issue, verbatim (hence the long line).
ISSUE_YAML = """\
kind: template
name: cart-reminder
channel: email
from: "Shop <shop@example.com>"
subject: "{{ profile.first_name | default: 'Hi' }}, you left something in your cart"
html: "<p>Hello {{ profile.first_name }}, finish here: <a href='{{ event.properties.cart_url }}'>your cart</a></p><p><a href='{{ message.unsubscribe_url }}'>Unsubscribe</a></p>"
"""  # noqa: E501


def test_the_issue_document_is_accepted_as_yaml_by_clarion_apply(
    live_server: LiveServer,
    ws: WorkspaceKeys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(ISSUE_YAML)
    monkeypatch.setenv("CLARION_API_KEY", ws.secret_key)
    result = CliRunner().invoke(cli, ["apply", "-f", str(path), "--url", live_server.url])
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    got = client.get("/v1/templates/cart-reminder", headers=ws.auth).json()
    assert got["spec"] == {**CART_REMINDER}


def test_the_issue_document_is_accepted_as_json_and_renders(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    body = {k: v for k, v in CART_REMINDER.items() if k != "kind"}
    created = client.post("/v1/templates", json=body, headers=ws.auth)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    pid = identify(client, ws, "ann", first_name="Ann")
    preview = client.post(
        f"/v1/templates/{created.json()['id']}/render",
        headers=ws.auth,
        json={
            "profile_id": pid,
            "event": {"event": "Cart Abandoned", "properties": {"cart_url": "https://shop.se/c/1"}},
        },
    ).json()
    assert preview["subject"] == "Ann, you left something in your cart"
    assert "Hello Ann, finish here: <a href='https://shop.se/c/1'>your cart</a>" in preview["html"]
    assert "/u/" in preview["html"]  # message.unsubscribe_url
    assert preview["text"].startswith("Hello Ann, finish here: your cart (https://shop.se/c/1)")
    inline = client.post(
        "/v1/templates/cart-reminder/render", headers=ws.auth, json={"profile": {}}
    ).json()
    assert inline["subject"] == "Hi, you left something in your cart"


def test_html_fields_escape_profile_data(client: TestClient, ws: WorkspaceKeys) -> None:
    apply(client, ws, CART_REMINDER)
    preview = client.post(
        "/v1/templates/cart-reminder/render",
        headers=ws.auth,
        json={"profile": {"first_name": "<script>x</script>"}},
    ).json()
    assert "<script>" not in preview["html"]
    assert "&lt;script&gt;" in preview["html"]
    assert preview["subject"].startswith("<script>")  # plain text stays as written


def test_mjml_fragments_context_and_row(client: TestClient, ws: WorkspaceKeys) -> None:
    apply(
        client,
        ws,
        {"kind": "fragment", "name": "footer", "content": "<mj-text>Bye {{ name }}</mj-text>"},
        {
            "kind": "template",
            "name": "order",
            "channel": "email",
            "from": "a@b.se",
            "subject": "Order {{ context.order.id }}",
            "mjml": "<mjml><mj-body><mj-section><mj-column><mj-text>{% for item in "
            "context.order.items %}{{ item.name }};{% endfor %}</mj-text></mj-column>"
            "</mj-section></mj-body></mjml>",
        },
    )
    preview = client.post(
        "/v1/templates/order/render",
        headers=ws.auth,
        json={
            "profile": {},
            "context": {"order": {"id": 42, "items": [{"name": "Hat"}, {"name": "Scarf"}]}},
        },
    ).json()
    assert preview["subject"] == "Order 42"
    assert "Hat;Scarf;" in preview["html"] and "<table" in preview["html"]
    assert "Hat;Scarf;" in preview["text"]


def test_fragments_render_and_cannot_be_deleted_while_used(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(
        client,
        ws,
        {"kind": "fragment", "name": "sig", "content": "-- {{ profile.team }}"},
        {
            "kind": "template",
            "name": "note",
            "channel": "sms",
            "body": "Hi {{ profile.first_name }} {% render 'sig', profile: profile %}",
        },
    )
    preview = client.post(
        "/v1/templates/note/render",
        headers=ws.auth,
        json={"profile": {"first_name": "Bo", "team": "Support"}},
    ).json()
    assert preview["body"] == "Hi Bo -- Support"
    assert (preview["encoding"], preview["segments"]) == ("GSM-7", 1)
    refused = client.delete("/v1/documents/fragment/sig", headers=ws.auth)
    assert refused.status_code == 409


def test_bad_templates_are_refused_when_saved(client: TestClient, ws: WorkspaceKeys) -> None:
    cases = [
        (
            {
                "name": "t1",
                "channel": "email",
                "from": "a@b.se",
                "subject": "{{ oops",
                "html": "<p>x</p>",
            },
            "subject",
            "Liquid",
        ),
        (
            {"name": "t2", "channel": "email", "from": "a@b.se", "html": "<p>x</p>"},
            "subject",
            "required",
        ),
        (
            {"name": "t3", "channel": "sms", "body": "{% render 'missing' %}"},
            "",
            "fragment/missing",
        ),
        ({"name": "t4", "channel": "pigeon", "body": "x"}, "channel", "must be one of"),
        ({"name": "t5", "channel": "sms", "body": "x", "colour": "red"}, "colour", "not a field"),
        ({"name": "t6", "channel": "sms", "body": "{% for x in y %}"}, "body", "Liquid"),
    ]
    for body, path, words in cases:
        response = client.post("/v1/templates", json=body, headers=ws.auth)
        assert response.status_code == 400, (body, response.text)
        problems = response.json()["error"]["problems"]
        assert any(p["path"] == path and words in p["message"] for p in problems), problems
    assert client.get("/v1/templates", headers=ws.auth).json()["items"] == []


def test_a_template_that_loops_forever_fails_with_a_clear_error(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(
        client,
        ws,
        {
            "kind": "template",
            "name": "loop",
            "channel": "sms",
            "body": "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}",
        },
    )
    response = client.post("/v1/templates/loop/render", headers=ws.auth, json={"profile": {}})
    assert response.status_code == 400
    assert "loop" in response.json()["error"]["message"].lower()


def test_sms_encoding_and_segments_are_reported(client: TestClient, ws: WorkspaceKeys) -> None:
    apply(
        client,
        ws,
        {"kind": "template", "name": "long", "channel": "sms", "body": "{{ context.text }}"},
    )
    for text, expected in (
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("€" * 80, ("GSM-7", 1)),
        ("é" * 10 + "ł", ("UCS-2", 1)),
        ("😀" * 36, ("UCS-2", 2)),
    ):
        got = client.post(
            "/v1/templates/long/render",
            headers=ws.auth,
            json={"profile": {}, "context": {"text": text}},
        ).json()
        assert (got["encoding"], got["segments"]) == expected, text


def test_updates_make_versions_and_old_versions_still_render(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    apply(client, ws, {"kind": "template", "name": "v", "channel": "sms", "body": "one"})
    updated = client.put("/v1/templates/v", headers=ws.auth, json={"channel": "sms", "body": "two"})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    versions = client.get("/v1/templates/v/versions", headers=ws.auth).json()["items"]
    assert [(v["version"], v["spec"]["body"]) for v in versions] == [(2, "two"), (1, "one")]
    old = client.post(
        "/v1/templates/v/render", headers=ws.auth, json={"profile": {}, "version": 1}
    ).json()
    assert old["body"] == "one"
    current = client.post("/v1/templates/v/render", headers=ws.auth, json={"profile": {}})
    assert current.json()["body"] == "two"
