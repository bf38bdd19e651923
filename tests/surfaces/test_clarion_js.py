"""`/sdk/clarion.js` in a real browser: Debian's Chromium, driven by Playwright.

A page served by the test (its own origin) loads the snippet from the running
Clarion server, renders the visitor's content cards and in-app message, and the
visitor dismisses a card; the dismissal must be recorded by the server. The
browser enforces CORS, so the workspace's allowed origins are tested for real.

Chromium is found as `chromium` on the PATH (or `CLARION_CHROMIUM`). Without it
the test skips locally and fails under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import IN_CI, LiveServer, WorkspaceKeys
from tests.delivery.harness import apply, deliver, outcome_events
from tests.outbound.server import Reply, VendorServer
from tests.surfaces.test_surfaces import CARD, send, visitor

pytestmark = pytest.mark.slow


def chromium_path() -> str:
    found = os.environ.get("CLARION_CHROMIUM") or shutil.which("chromium")
    if not found:
        message = "Chromium is not installed (apt-get install chromium); CI runs this test"
        if IN_CI:
            pytest.fail(f"Chromium is required in CI: {message}")
        pytest.skip(message)
    return found


@contextmanager
def browser_page(url: str) -> Iterator[Any]:
    """A Chromium page at `url` (Playwright's sync API runs its own event loop, so the test
    prepares everything before the browser starts)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(url)
            yield page
        finally:
            browser.close()


def page_html(clarion: str, write_key: str, profile: str) -> bytes:
    """A shop's page: loads the snippet from Clarion and renders the visitor's content."""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<script src="{clarion}/sdk/clarion.js"></script></head>
<body><h1>Shop</h1><div id="cards"></div>
<script>
  var clarion = new Clarion({{host: "{clarion}", writeKey: "{write_key}", profile: "{profile}"}});
  clarion.renderCards(document.getElementById("cards"))
    .then(function (items) {{ document.body.setAttribute("data-cards", items.length); }})
    .catch(function (error) {{ document.body.setAttribute("data-error", String(error)); }});
  clarion.showInApp();
</script></body></html>""".encode()


@pytest.fixture
def shop(live_server: LiveServer, ws: WorkspaceKeys) -> Iterator[VendorServer]:
    """The customer's web site, on another origin than Clarion."""
    html = page_html(live_server.url, ws.write_key, "anonymous_id:anon-1")
    reply = Reply(200, html, {"Content-Type": "text/html; charset=utf-8"})
    with VendorServer(lambda _request: reply) as server:
        yield server


def test_a_card_shows_in_the_page_and_a_dismissal_is_recorded(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, shop: VendorServer
) -> None:
    apply(
        client,
        ws,
        CARD,
        {"kind": "template", "name": "hello", "channel": "in_app", "html": "<p>Hej!</p>"},
    )
    pid = visitor(client, ws, "anon-1")
    card = send(client, ws, "welcome-card", pid, "content_card")
    send(client, ws, "hello", pid, "in_app")
    assert deliver(app).sent == 2
    settings = {"settings": {"surfaces": {"cors_origins": [shop.url]}}}
    assert client.put("/v1/workspace/settings", headers=ws.auth, json=settings).status_code == 200

    with browser_page(f"{shop.url}/") as page:
        shown = page.wait_for_selector(f'.clarion-card[data-clarion-id="{card}"]')
        assert shown.query_selector(".clarion-card-title").inner_text() == "Welcome Ann"
        assert shown.query_selector(".clarion-card-body").inner_text() == "10% off"
        assert page.wait_for_selector(".clarion-in-app").inner_text().startswith("Hej!")
        page.wait_for_selector("body[data-cards='1']")
        shown.query_selector(".clarion-dismiss").click()
        page.wait_for_selector(f'.clarion-card[data-clarion-id="{card}"]', state="detached")
        page.wait_for_load_state("networkidle")  # the impressions reported at render, too

    listed = client.get(
        "/v1/surfaces/cards", params={"profile": "anonymous_id:anon-1"}, headers=ws.auth
    )
    assert listed.json()["items"] == []  # dismissed for good
    card_events = [
        e["event"]
        for e in outcome_events(client, ws, pid)
        if e["properties"].get("message_id") == card
    ]
    assert card_events == ["message.sent", "message.opened", "message.dismissed"]


def test_a_page_on_an_origin_the_workspace_does_not_allow_gets_nothing(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys, shop: VendorServer
) -> None:
    apply(client, ws, CARD)
    pid = visitor(client, ws, "anon-1")
    send(client, ws, "welcome-card", pid, "content_card")
    deliver(app)
    settings = {"settings": {"surfaces": {"cors_origins": ["https://other-shop.example"]}}}
    assert client.put("/v1/workspace/settings", headers=ws.auth, json=settings).status_code == 200
    with browser_page(f"{shop.url}/") as page:
        failed = page.wait_for_selector("body[data-error]")
        assert "Failed to fetch" in (failed.get_attribute("data-error") or "")
        assert page.query_selector(".clarion-card") is None
