"""Audience documents through apply: the issue's YAML as written, references, cycles."""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient

from tests.conftest import WorkspaceKeys

ISSUE_AUDIENCE = """
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


def apply(client: TestClient, ws: WorkspaceKeys, text: str) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/v1/apply", content=text.encode(), headers={**ws.auth, "Content-Type": "application/yaml"}
    )
    return {"status": response.status_code, **response.json()}


def test_the_issue_audience_is_accepted_as_yaml_and_as_json(
    client: TestClient, ws: WorkspaceKeys
) -> None:
    assert apply(client, ws, ISSUE_AUDIENCE)["status"] == 200
    as_json = yaml.safe_load(ISSUE_AUDIENCE) | {"name": "copy"}
    assert client.post("/v1/apply", json=[as_json], headers=ws.auth).status_code == 200


def test_references_between_audiences_and_cycles(client: TestClient, ws: WorkspaceKeys) -> None:
    apply(client, ws, ISSUE_AUDIENCE)
    wrapper = "kind: audience\nname: wrapper\ndefinition:\n  in_audience: frequent-buyers-se\n"
    result = apply(client, ws, wrapper)
    assert result["status"] == 200, result
    refused = client.delete("/v1/documents/audience/frequent-buyers-se", headers=ws.auth)
    assert refused.status_code == 409
    assert refused.json()["error"]["referrers"] == [{"kind": "audience", "name": "wrapper"}]
    cycle = (
        "kind: audience\nname: a\ndefinition: {in_audience: b}\n---\n"
        "kind: audience\nname: b\ndefinition: {in_audience: a}\n"
    )
    result = apply(client, ws, cycle)
    assert result["status"] == 400
    assert any("cycle" in p["message"] for p in result["error"]["problems"])


def test_invalid_definitions_point_at_the_node(client: TestClient, ws: WorkspaceKeys) -> None:
    bad = (
        "kind: audience\nname: bad\ndefinition:\n  all:\n"
        "    - trait: {path: country, op: resembles, value: SE}\n"
    )
    result = apply(client, ws, bad)
    assert result["status"] == 400
    paths = [p["path"] for p in result["error"]["problems"]]
    assert any(p.startswith("definition.all[0]") for p in paths), paths
