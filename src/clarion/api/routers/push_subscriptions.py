"""Registering a browser's Web Push subscription for a profile.

`POST /v1/push/subscriptions` with `{"profile": "anonymous_id:abc" | "user_id:42",
"subscription": {"endpoint", "keys": {"p256dh", "auth"}}}` (the browser's
`PushSubscription.toJSON()`), under the surfaces' rules: the write key for an
anonymous id, plus an identity token for a user id; a secret key for anyone.
The subscription is stored and a `Push Subscribed` event gives the profile the
device token `webpush:<id>` (through the identity stage, like any event); the
`push-subscriptions` consumer then records that profile as the owner.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import Response as PlainResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import unauthorized
from clarion.api.routers.client_auth import IDENTITY_HEADER, client_principal, cors, preflight
from clarion.api.services import Services, get_services
from clarion.channels.push_owners import PUSH_SUBSCRIBED
from clarion.model.errors import InvalidInput
from clarion.model.events import NewEvent
from clarion.model.roles import KeyKind
from clarion.model.workspaces import Principal
from clarion.surfaces import identity_secret, store
from clarion.surfaces.access import CLIENT_NAMESPACES, parse_identity, token_user

router = APIRouter(prefix="/v1/push", tags=["push"])


class Keys(BaseModel):
    p256dh: str = Field(min_length=20, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class Subscription(BaseModel):
    endpoint: str = Field(min_length=10, max_length=2000)
    keys: Keys


class Register(BaseModel):
    profile: str = Field(min_length=1, max_length=320)
    subscription: Subscription


@router.post("/subscriptions", status_code=201)
async def register_subscription(
    body: Register,
    request: Request,
    response: Response,
    principal: Principal = Depends(client_principal),
    services: Services = Depends(get_services),
) -> Any:
    """Store a web push subscription and attach it to the profile as a device token."""
    namespace, value = parse_identity(body.profile)
    if namespace not in CLIENT_NAMESPACES:
        raise InvalidInput("profile is anonymous_id:... or user_id:...", field="profile")
    endpoint = body.subscription.endpoint
    if not endpoint.startswith(("https://", "http://")):
        raise InvalidInput("the endpoint is an http(s) URL", field="subscription.endpoint")
    sub_id = "wps_" + hashlib.sha256(endpoint.encode()).hexdigest()[:32]
    token = request.headers.get(IDENTITY_HEADER)
    now = services.clock.now()

    def run() -> dict[str, Any]:
        with services.db.write() as tx:
            if namespace == "user_id" and principal.kind is not KeyKind.SECRET:
                secret = identity_secret(tx.signing_key(principal.workspace_id))
                if not token or token_user(secret, token, int(now.timestamp())) != value:
                    raise unauthorized("a user id needs a valid identity token for that user")
            owner = tx.profiles.owners(principal.workspace_id, [(namespace, value)])
            store.put_subscription(
                tx,
                principal.workspace_id,
                sub_id,
                endpoint,
                body.subscription.keys.p256dh,
                body.subscription.keys.auth,
                owner.get((namespace, value)),
                now,
            )
            event = NewEvent(
                type="track",
                message_id=f"push-subscribed:{sub_id}:{namespace}:{value}",
                event=PUSH_SUBSCRIBED,
                user_id=value if namespace == "user_id" else None,
                anonymous_id=value if namespace == "anonymous_id" else None,
                payload={"context": {"device": {"token": f"webpush:{sub_id}", "type": "web"}}},
                timestamp=now,
                origin="write_key" if principal.kind is KeyKind.WRITE else "secret_key",
            )
            tx.events.append(principal.workspace_id, [event], now)
            return tx.workspaces.settings(principal.workspace_id)

    ws_settings = await run_in_threadpool(run)
    services.wake_consumers()
    cors(request, response, ws_settings)
    return {"id": sub_id, "device_token": f"webpush:{sub_id}"}


@router.options("/subscriptions", include_in_schema=False)
def subscriptions_preflight(request: Request) -> PlainResponse:
    return preflight(request)
