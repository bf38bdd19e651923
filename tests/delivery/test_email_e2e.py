"""Real email end to end: Clarion's server sends through SMTP to a real SMTP server.

aiosmtpd receives; the message must parse, carry a DKIM signature that dkimpy
verifies, and the one-click unsubscribe, open and click links in it must work
against the running Clarion server.
"""

from __future__ import annotations

import email
import email.policy
import queue
import re
import time
from collections.abc import Iterator
from typing import Any

import dkim
import httpx
import pytest
from aiosmtpd.controller import Controller

from clarion.api.app import create_app
from clarion.channels.email import generate_dkim_key
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from tests.conftest import LiveServer, free_port, make_workspace, settings_for_tests
from tests.delivery.harness import CART_REMINDER

pytestmark = pytest.mark.slow


class Inbox:
    """aiosmtpd handler: what arrives goes into a queue the test reads from."""

    def __init__(self) -> None:
        self.arrived: queue.Queue[tuple[str, list[str], bytes]] = queue.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived.put((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 Ok"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def wait_for(check: Any, timeout: float = 30) -> Any:
    """Poll a condition of the running system (an outcome of background work)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "the condition was not met in time"
        time.sleep(0.02)


def test_email_goes_out_by_smtp_signed_and_its_links_work(
    smtp_server: tuple[Inbox, int], sqlite_db: SqlDatabase
) -> None:
    inbox, smtp_port = smtp_server
    port = free_port()
    settings = settings_for_tests(port=port, public_url=f"http://127.0.0.1:{port}")
    settings.workers = True
    app = create_app(settings, db=sqlite_db, clock=FakeClock())
    ws = make_workspace(app)
    key = generate_dkim_key("rsa", bits=2048)
    with LiveServer(app, port=port) as server, httpx.Client(base_url=server.url) as http:
        configured = http.put(
            "/v1/channels/email",
            headers=ws.auth,
            json={
                "provider": "smtp",
                "settings": {
                    "url": f"smtp://127.0.0.1:{smtp_port}",
                    "dkim": {
                        "domain": "example.com",
                        "selector": "s1",
                        "private_key": key.private_pem,
                    },
                },
            },
        )
        assert configured.status_code == 200, configured.text
        assert configured.json()["settings"]["dkim"]["private_key"] == "********"
        assert http.post("/v1/apply", headers=ws.auth, json=[CART_REMINDER]).status_code == 200
        http.post(
            "/v1/identify",
            auth=(ws.write_key, ""),
            json={"userId": "ann", "traits": {"first_name": "Ann", "email": "ann@example.org"}},
        )
        profile = wait_for(
            lambda: (
                http.get("/v1/profiles", headers=ws.auth, params={"identity": "user_id:ann"})
                .json()
                .get("id")
            )
        )
        sent = http.post(
            "/v1/messages",
            headers=ws.auth,
            json={
                "channel": "email",
                "template": "cart-reminder",
                "profile_id": profile,
                "event": {"properties": {"cart_url": "https://shop.example/cart/9"}},
            },
        )
        assert sent.status_code == 202
        mail_from, rcpt_tos, data = inbox.arrived.get(timeout=30)

        assert rcpt_tos == ["ann@example.org"] and mail_from == "shop@example.com"
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert message["Subject"] == "Ann, you left something in your cart"
        assert message["To"] == "ann@example.org"
        assert message["Message-ID"] == f"<{sent.json()['message_id']}@example.com>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "Hello Ann" in html and "Hello Ann" in text

        record = key.dns_record.encode()
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: record)

        pixel = re.search(r'<img src="([^"]+/t/o/[^"]+)"', html)
        link = re.search(r"href='([^']+/t/c/[^']+)'", html)
        assert pixel and link
        assert httpx.get(pixel.group(1)).status_code == 200
        click = httpx.get(link.group(1), follow_redirects=False)
        assert click.headers["location"] == "https://shop.example/cart/9"
        one_click = re.search(r"<([^>]+)>", message["List-Unsubscribe"])
        assert one_click
        done = httpx.post(
            one_click.group(1),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200

        def outcomes() -> list[str]:
            items = http.get(f"/v1/profiles/{profile}/events", headers=ws.auth).json()["items"]
            names = [e["event"] for e in reversed(items) if (e["event"] or "").startswith("m")]
            return names if len(names) == 4 else []

        assert wait_for(outcomes) == [
            "message.sent",
            "message.opened",
            "message.clicked",
            "message.unsubscribed",
        ]
        subscriptions = http.get(f"/v1/profiles/{profile}/subscriptions", headers=ws.auth).json()
        assert [(i["channel"], i["subscribed"], i["source"]) for i in subscriptions["items"]] == [
            ("email", False, "one_click")
        ]
