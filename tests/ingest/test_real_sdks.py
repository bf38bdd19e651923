"""The official Segment and RudderStack Python SDKs work unchanged against Clarion.

Each SDK runs as a user would run it (its own background thread, batching,
retries, RudderStack with gzip) and is pointed at a real Clarion server over
HTTP; only the host changes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient
from segment.analytics.request import APIError

from tests.conftest import LiveServer, WorkspaceKeys, drain_consumers

pytestmark = pytest.mark.slow


def journey_of_a_visitor(sdk: Any, prefix: str) -> None:
    """An anonymous visit, a sign-up, and a purchase, as an app would send them."""
    anon = f"{prefix}-anon"
    sdk.page(anonymous_id=anon, name="Home", properties={"path": "/"})
    sdk.track(anonymous_id=anon, event="Product Viewed", properties={"sku": "A-1"})
    sdk.identify(
        user_id=f"{prefix}-user",
        anonymous_id=anon,
        traits={"email": f"{prefix}@example.com", "first_name": "Sam"},
    )
    sdk.track(
        user_id=f"{prefix}-user",
        event="Order Completed",
        properties={"total": 99.5, "currency": "SEK"},
    )
    sdk.alias(previous_id=f"{prefix}-legacy", user_id=f"{prefix}-user")
    sdk.screen(user_id=f"{prefix}-user", name="Receipt")
    sdk.flush()


def check_one_merged_profile(
    live_server: LiveServer, ws: WorkspaceKeys, client: Any, prefix: str
) -> None:
    drain_consumers(client)
    with httpx.Client(base_url=live_server.url, headers=ws.auth) as http:
        by_user = http.get("/v1/profiles", params={"identity": f"user_id:{prefix}-user"}).json()
        by_anon = http.get("/v1/profiles", params={"identity": f"anonymous_id:{prefix}-anon"})
        assert by_anon.json()["id"] == by_user["id"]
        assert by_user["traits"] == {"email": f"{prefix}@example.com", "first_name": "Sam"}
        identities = {(i["namespace"], i["value"]) for i in by_user["identities"]}
        assert identities == {
            ("user_id", f"{prefix}-user"),
            ("anonymous_id", f"{prefix}-anon"),
            ("email", f"{prefix}@example.com"),
            ("anonymous_id", f"{prefix}-legacy"),
        }
        events = http.get(f"/v1/profiles/{by_user['id']}/events").json()["items"]
    seen = [(e["type"], e["event"]) for e in reversed(events)]
    assert seen == [
        ("page", "Home"),
        ("track", "Product Viewed"),
        ("identify", None),
        ("track", "Order Completed"),
        ("alias", None),
        ("screen", "Receipt"),
    ]
    order = next(e for e in events if e["event"] == "Order Completed")
    assert order["properties"] == {"total": 99.5, "currency": "SEK"}


@pytest.fixture
def errors() -> list[Any]:
    return []


def test_segment_analytics_python(
    live_server: LiveServer, ws: WorkspaceKeys, client: Any, errors: list[Any]
) -> None:
    sdk = SegmentClient(
        ws.write_key,
        host=live_server.url,
        max_retries=1,
        on_error=lambda e, batch: errors.append(e),
        upload_interval=0.05,
    )
    journey_of_a_visitor(sdk, "seg")
    sdk.shutdown()
    assert errors == []
    check_one_merged_profile(live_server, ws, client, "seg")


def test_segment_sdk_gzip_and_sync_mode(
    live_server: LiveServer, ws: WorkspaceKeys, client: Any, errors: list[Any]
) -> None:
    sdk = SegmentClient(
        ws.write_key,
        host=live_server.url,
        gzip=True,
        sync_mode=True,
        on_error=lambda e, batch: errors.append(e),
    )
    journey_of_a_visitor(sdk, "segz")
    assert errors == []
    check_one_merged_profile(live_server, ws, client, "segz")


def test_rudder_sdk_python(
    live_server: LiveServer, ws: WorkspaceKeys, client: Any, errors: list[Any]
) -> None:
    sdk = RudderClient(
        ws.write_key,
        host=live_server.url,
        max_retries=1,
        on_error=lambda e, batch: errors.append(e),
        upload_interval=0.05,
    )
    journey_of_a_visitor(sdk, "rud")
    sdk.shutdown()
    assert errors == []
    check_one_merged_profile(live_server, ws, client, "rud")


def test_sdk_reports_a_refused_event(live_server: LiveServer, ws: WorkspaceKeys) -> None:
    sdk = SegmentClient(ws.write_key, host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        sdk.track(user_id="x", event="message.sent")  # reserved for Clarion itself
    assert refused.value.status == 400
    assert refused.value.code == "invalid_event"
    assert "reserved" in refused.value.message
