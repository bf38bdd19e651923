"""Bad canvases are refused when applied, with the activity id and the reason."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import WorkspaceKeys
from tests.orchestrated.hotel_data import documents

BASE = documents("templates.yaml") + documents("issue_documents.yaml")[:1]


def _canvas(*activities: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "canvas", "name": "bad", "activities": list(activities)}


def _problems(
    client: TestClient, ws: WorkspaceKeys, canvas: dict[str, Any]
) -> list[tuple[str, str]]:
    answer = client.post("/v1/apply", json=[*BASE, canvas], headers=ws.auth)
    assert answer.status_code == 400, answer.text
    return [(p["path"], p["message"]) for p in answer.json()["error"]["problems"]]


def _bookings(filter_: dict[str, Any], next_: str = "done") -> dict[str, Any]:
    return {
        "id": "pick",
        "type": "build_audience",
        "dimension": "bookings",
        "filter": filter_,
        "next": next_,
    }


END = {"id": "done", "type": "end"}


@pytest.mark.parametrize(
    ("canvas", "path", "reason"),
    [
        (
            _canvas(_bookings({"attribute": {"path": "colour", "op": "eq", "value": "red"}}), END),
            "pick.filter.attribute.path",
            "bookings has no attribute or link 'colour'",
        ),
        (
            _canvas(_bookings({"attribute": {"path": "room.floor", "op": "eq", "value": 2}}), END),
            "pick.filter.attribute.path",
            "bookings has no attribute or link 'room'",
        ),
        (
            _canvas(
                _bookings({"attribute": {"path": "hotel.stars", "op": "gte", "value": 4}}), END
            ),
            "pick.filter.attribute.path",
            "hotels has no attribute or link 'stars'",
        ),
        (
            _canvas(_bookings({"attribute": {"path": "nights", "op": "eq", "value": "two"}}), END),
            "pick.filter.attribute",
            "an integer attribute compares with numbers",
        ),
        (
            _canvas(
                {
                    "id": "pick",
                    "type": "build_audience",
                    "filter": {
                        "aggregate": {"link": "stays", "fn": "count", "op": "gte", "value": 1}
                    },
                    "next": "done",
                },
                END,
            ),
            "pick.filter.aggregate.link",
            "profiles has no one-to-many link 'stays'",
        ),
        (
            _canvas(
                {"id": "pick", "type": "build_audience", "dimension": "hotels", "next": "send"},
                {"id": "send", "type": "email", "template": "pre-arrival", "next": "done"},
                END,
            ),
            "send",
            "hotels rows have no link to profiles",
        ),
        (
            _canvas(
                {"id": "pick", "type": "build_audience", "next": "send"},
                {"id": "send", "type": "email", "template": "pre-arrival", "next": "done"},
                END,
            ),
            "send.template",
            "row.check_in does not flow into 'send' (profiles rows)",
        ),
        (
            _canvas(
                _bookings({"all": []}, "a"),
                {"id": "a", "type": "wait", "duration": "1h", "next": "b"},
                {"id": "b", "type": "fork", "next": ["a", "done"]},
                END,
            ),
            "a",
            "the canvas has a cycle: a -> b -> a",
        ),
        (
            _canvas(_bookings({"all": []}, "nowhere")),
            "pick",
            "leads to 'nowhere', which is no activity",
        ),
        (
            _canvas(_bookings({"all": []}), {"id": "send", "type": "email", "template": "x"}),
            "send",
            "no transition leads here",
        ),
        (
            _canvas(
                {"id": "when", "type": "scheduler", "every": "5m", "next": "pick"},
                _bookings({"all": []}),
                END,
            ),
            "when",
            "a canvas runs at most every 15 minutes",
        ),
        (
            _canvas({"id": "pick", "type": "teleport"}),
            "pick",
            "unknown activity type",
        ),
    ],
)
def test_bad_canvases_name_the_activity(
    client: TestClient, ws: WorkspaceKeys, canvas: dict[str, Any], path: str, reason: str
) -> None:
    problems = _problems(client, ws, canvas)
    assert any(p == path and reason in m for p, m in problems), problems


def test_a_channel_template_must_exist(client: TestClient, ws: WorkspaceKeys) -> None:
    canvas = _canvas(
        _bookings({"all": []}, "send"),
        {"id": "send", "type": "email", "template": "missing", "next": "done"},
        END,
    )
    problems = _problems(client, ws, canvas)
    assert ("", "refers to template/missing, which does not exist") in problems


def test_data_for_an_undeclared_entity_or_wrong_type_is_refused(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    assert client.post("/v1/apply", json=BASE, headers=ws.auth).status_code == 200
    missing = client.post("/v1/data/rooms", json=[{"id": 1}], headers=ws.auth)
    assert missing.status_code == 404
    wrong = client.post(
        "/v1/data/bookings", json=[{"booking_id": "b1", "nights": "two"}], headers=ws.auth
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["message"] == "row 0: nights = 'two' is not an integer"
    unknown = client.post("/v1/data/hotels", json=[{"hotel_id": "h1", "stars": 5}], headers=ws.auth)
    assert unknown.json()["error"]["message"] == "row 0: hotels has no attribute 'stars'"
