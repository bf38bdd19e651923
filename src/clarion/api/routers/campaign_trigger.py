"""The hot path of API-triggered campaigns: `POST /v1/campaigns/{campaign}/trigger`.

A plain Starlette route, as `GET /v1/surfaces/{surface}` is: no dependency to
solve and no hop to the thread pool (the key is checked from the cache, on the
event loop, by the same functions the `require` dependency runs). Concurrent
calls share one transaction and their statements (`GroupCommitter`); each group hands
its messages to this process's dispatcher as it commits, and its calls are answered
in one turn of the event loop. `campaigns.py` documents the route in the OpenAPI
schema; the app includes this module's router ahead of the others, so that a trigger
call is matched by the first route it meets instead of after every other route of
the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.routing import Route

from clarion.api.auth import require, secret_principal
from clarion.api.responses import OrjsonResponse
from clarion.api.services import Services
from clarion.campaigns import trigger_calls
from clarion.campaigns.batching import GroupCommitter
from clarion.model.errors import InvalidInput
from clarion.model.roles import Role
from clarion.storage.base import Tx

PATH = "/v1/campaigns/{campaign}/trigger"
_editor = require(Role.EDITOR)
_REPLAYED = {"Idempotent-Replayed": "true"}


async def json_body(request: Request) -> Any:
    """The request's JSON (`{}` for an empty body); a 400 naming `body` if it is not JSON."""
    body = await request.body()
    if not body:
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}", field="body") from exc


def committer(services: Services) -> GroupCommitter:
    """The app's trigger committer: calls share commits and statements (one group of
    concurrent calls at a time); each commit hands its messages to this process's
    dispatcher (or wakes a dispatcher)."""
    found = services.extras.get("campaign_triggers")
    if not isinstance(found, GroupCommitter):

        def handle(tx: Tx, key: Any, bodies: Sequence[Any]) -> list[Any]:
            workspace_id, ref = key
            now = services.clock.now()
            handoff, wake = services.handoff, services.wake_dispatcher
            return trigger_calls(tx, workspace_id, ref, bodies, now, handoff, wake)

        found = GroupCommitter(services.db, handle)
        services.extras["campaign_triggers"] = found
    return found


async def serve_trigger(request: Request) -> OrjsonResponse:
    """Send an API campaign's message to up to 1,000 recipients, idempotent on `requestId`:
    a 202 with one answer per recipient; a retried call sends nothing new and answers as
    the first did (with `Idempotent-Replayed: true`)."""
    services: Services = request.app.state.services
    principal = _editor(secret_principal(request, services, None))
    body = await json_body(request)
    key = (principal.workspace_id, str(request.path_params["campaign"]))
    answer, replayed = await committer(services).submit_async(key, body)
    return OrjsonResponse(answer, status_code=202, headers=_REPLAYED if replayed else None)


router = APIRouter()
router.routes.append(Route(PATH, serve_trigger, methods=["POST"], include_in_schema=False))
