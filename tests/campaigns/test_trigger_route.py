"""The trigger hot path: the plain route keeps the documented contract (errors, auth,
OpenAPI), and the group commit answers a loop's calls together, in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clarion.api.routers.campaign_trigger import committer
from clarion.campaigns.batching import GroupCommitter
from clarion.delivery.writelock import ProcessWriteLock
from clarion.model.errors import InvalidInput
from tests.campaigns.test_trigger import order, setup
from tests.conftest import WorkspaceKeys

PATH = "/v1/campaigns/order-confirmation/trigger"


def test_bodies_that_are_not_json_and_wrong_methods_get_the_error_shape(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    headers = {**ws.auth, "Content-Type": "application/json"}
    bad = client.post(PATH, content=b"{not json", headers=headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "body"
    assert bad.json()["error"]["message"].startswith("the body is not JSON")
    empty = client.post(PATH, content=b"", headers=headers)  # {}: no requestId
    assert (empty.status_code, empty.json()["error"]["field"]) == (400, "requestId")
    listed = client.post(PATH, json=[order("r", {"email": "ann@example.org"})], headers=ws.auth)
    assert (listed.status_code, listed.json()["error"]["message"]) == (400, "send a JSON object")
    assert client.get(PATH, headers=ws.auth).status_code == 405
    anonymous = client.post(PATH, json=order("r", {"email": "ann@example.org"}))
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="clarion"'
    assert anonymous.json()["error"] == {
        "code": "unauthorized",
        "message": "a valid API key is required",
    }


def test_calls_answer_202_with_a_replay_header_only_on_a_retry(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    setup(app, client, ws)
    body = order("once", {"email": "new@example.org", "context": {"order": {"id": "1"}}})
    first = client.post(PATH, json=body, headers=ws.auth)
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    assert first.headers["content-type"] == "application/json"
    again = client.post(PATH, json=body, headers=ws.auth)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    by_id = client.post(
        f"/v1/campaigns/{first.json()['campaign']['id']}/trigger", json=body, headers=ws.auth
    )
    assert by_id.json() == first.json()


def test_the_route_is_documented_once_with_its_body_and_key(app: FastAPI) -> None:
    operations = app.openapi()["paths"]["/v1/campaigns/{campaign}/trigger"]
    assert list(operations) == ["post"]
    post = operations["post"]
    assert post["security"] == [{"HTTPBearer": []}]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["requestId", "recipients"]
    assert "202" in post["responses"]


# --- the group commit ----------------------------------------------------------------


class _Db:
    """Just enough of a database for the committer: a write() that yields a token,
    once `lock_free` is set (as another writer would hold SQLite's write lock)."""

    def __init__(self) -> None:
        self.commits = 0
        self.waiting, self.lock_free = threading.Event(), threading.Event()
        self.lock_free.set()

    @contextmanager
    def write(self) -> Iterator[object]:
        self.waiting.set()
        assert self.lock_free.wait(5)
        yield object()
        self.commits += 1


def test_calls_arriving_while_the_write_lock_is_taken_join_that_commit() -> None:
    groups: list[list[Any]] = []

    def handler(_tx: Any, _key: Any, payloads: Sequence[Any]) -> list[Any]:
        groups.append(list(payloads))
        return list(payloads)

    db = _Db()
    db.lock_free.clear()
    committer = GroupCommitter(db, handler)  # type: ignore[arg-type]
    first = committer.submit("k", "first")
    assert db.waiting.wait(5)  # the committer waits for the lock with one call
    rest = [committer.submit("k", n) for n in range(3)]
    db.lock_free.set()
    assert [f.result(timeout=5) for f in (first, *rest)] == ["first", 0, 1, 2]
    assert groups == [["first", 0, 1, 2]] and db.commits == 1


def test_a_loops_calls_in_one_group_are_answered_by_one_callback_in_order() -> None:
    entered, release, groups = threading.Event(), threading.Event(), []

    def handler(_tx: Any, key: Any, payloads: Sequence[Any]) -> list[Any]:
        if payloads == ["first"]:
            entered.set()
            release.wait(5)  # the next calls queue up meanwhile: one group
        groups.append(list(payloads))
        return [InvalidInput("odd", field="n") if p == 3 else (key, p) for p in payloads]

    db = _Db()
    committer = GroupCommitter(db, handler)  # type: ignore[arg-type]

    async def calls() -> tuple[list[Any], int]:
        loop = asyncio.get_running_loop()
        callbacks = 0
        original = loop.call_soon_threadsafe

        def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal callbacks
            callbacks += 1
            return original(*args, **kwargs)

        first = committer.submit_async("k", "first")
        assert await asyncio.to_thread(entered.wait, 5)  # the committer is in the first group
        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        rest = [committer.submit_async("k", n) for n in range(5)]
        release.set()
        results = await asyncio.gather(first, *rest, return_exceptions=True)
        return results, callbacks

    results, callbacks = asyncio.run(calls())
    assert groups == [["first"], [0, 1, 2, 3, 4]]
    assert results[:4] == [("k", "first"), ("k", 0), ("k", 1), ("k", 2)]
    assert isinstance(results[4], InvalidInput) and results[5] == ("k", 4)
    assert callbacks == 2  # one per group (counted from the first's), not one per call
    assert db.commits == 2


def test_a_cancelled_call_does_not_keep_the_others_of_its_group_from_their_answers() -> None:
    release = threading.Event()

    def handler(_tx: Any, _key: Any, payloads: Sequence[Any]) -> list[Any]:
        release.wait(5)
        return [p * 10 for p in payloads]

    committer = GroupCommitter(_Db(), handler)  # type: ignore[arg-type]

    async def calls() -> list[Any]:
        futures = [committer.submit_async("k", n) for n in range(3)]
        futures[1].cancel()  # its client went away
        release.set()
        return await asyncio.gather(futures[0], futures[2])

    assert asyncio.run(calls()) == [0, 20]


def test_a_failing_group_gives_every_call_in_it_the_error() -> None:
    def handler(_tx: Any, _key: Any, payloads: Sequence[Any]) -> list[Any]:
        raise RuntimeError("disk full")

    committer = GroupCommitter(_Db(), handler)  # type: ignore[arg-type]

    async def calls() -> list[Any]:
        futures = [committer.submit_async("k", n) for n in range(3)]
        return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(calls())
    assert all(isinstance(r, RuntimeError) and str(r) == "disk full" for r in results)
    thread_future = committer.submit("k", 1)
    with pytest.raises(RuntimeError, match="disk full"):
        thread_future.result(timeout=5)


def test_serving_only_the_api_commits_queue_with_other_processes_dispatchers(
    app: FastAPI, client: TestClient, ws: WorkspaceKeys
) -> None:
    """Without workers here, a trigger commit waits its turn at the dispatchers' lock
    beside the SQLite file (as a `clarion worker`'s dispatcher holds it), then commits."""
    setup(app, client, ws)
    services = app.state.services
    assert not services.settings.workers
    db_file = Path(services.db.engine.url.database)
    held = ProcessWriteLock(db_file.with_name(db_file.name + "-dispatch.lock"))
    body = order("queued", {"email": "new@example.org", "context": {"order": {"id": "9"}}})
    with held:  # another process's dispatcher is writing
        answer = committer(services).submit((ws.id, "order-confirmation"), body)
        assert not wait([answer], timeout=0.2).done  # it waits for the lock to come free
    queued, replayed = answer.result(timeout=5)
    assert queued["queued"] == 1 and not replayed
    with services.db.read() as tx:
        assert tx.outbox.counts(ws.id) == {"pending": 1}
