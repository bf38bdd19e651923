"""Who may see a profile's surfaces, and what they see.

The write key ships in web pages, so it proves nothing about the person: with
it alone a surface answers only for an `anonymous_id` that belongs to no known
user. A known user is shown their content only with an identity token: a JWT
(HS256) of `sub` = the user id and `exp`, made by the customer's backend with
the workspace's identity secret (as Braze's SDK authentication does). A secret
key may ask for any profile.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import jwt

from clarion.model.errors import Forbidden, InvalidInput
from clarion.model.roles import KeyKind
from clarion.model.workspaces import Principal
from clarion.profiles.rules import normalise
from clarion.storage.base import Tx
from clarion.surfaces import store

CLIENT_NAMESPACES = ("anonymous_id", "user_id")
SECRET_NAMESPACES = ("anonymous_id", "user_id", "email", "phone", "profile_id")


class IdentityRefused(Forbidden):
    """The caller may not see this profile's content (a 401 at the HTTP edge)."""


def identity_secret(signing_key: str) -> str:
    """The workspace's secret for identity tokens (derived from its signing key)."""
    return hmac.new(signing_key.encode(), b"clarion:surface-identity", hashlib.sha256).hexdigest()


def make_identity_token(secret: str, user_id: str, expires_at: int) -> str:
    """What a customer's backend makes: a JWT (HS256) of the user id and an expiry."""
    return jwt.encode({"sub": user_id, "exp": expires_at}, secret, algorithm="HS256")


def token_user(secret: str, token: str, now_s: int) -> str | None:
    """The user id a valid, unexpired token names; None otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "require": ["sub", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now_s or not isinstance(claims.get("sub"), str):
        return None
    return str(claims["sub"])


@dataclass(frozen=True, slots=True)
class Viewer:
    """The profile a surface request is for (None: nobody we know, who sees nothing).

    Content of profiles merged into it is included by the store's queries."""

    profile_id: str | None


def parse_identity(text: str) -> tuple[str, str]:
    """`user_id:42`, `anonymous_id:abc`; a bare value is an anonymous id."""
    namespace, sep, value = text.partition(":")
    if not sep or namespace not in SECRET_NAMESPACES:
        namespace, value = "anonymous_id", text
    value = value.strip()
    if not value or len(value) > 300:
        raise InvalidInput("profile is namespace:value, e.g. anonymous_id:abc", field="profile")
    return namespace, normalise(namespace, value)


def resolve_viewer(
    tx: Tx, principal: Principal, identity: str, token: str | None, now_s: int
) -> Viewer:
    """The profile the caller may see, or IdentityRefused; unknown profiles see nothing."""
    return resolve(tx, principal, identity, token, now_s)[0]


def resolve(
    tx: Any, principal: Principal, identity: str, token: str | None, now_s: int
) -> tuple[Viewer, dict[str, Any]]:
    """`resolve_viewer`, and the workspace's settings. `tx` may be a transaction or, for
    any namespace but `profile_id`, the store's `RawReads` (the hot path: one query)."""
    workspace_id = principal.workspace_id
    namespace, value = parse_identity(identity)
    secret_key = principal.kind is KeyKind.SECRET
    if not secret_key and namespace not in CLIENT_NAMESPACES:
        raise IdentityRefused("with the write key, ask for an anonymous_id or a user_id")
    if namespace == "profile_id":  # a secret key's question
        survivor = tx.profiles.survivor(workspace_id, value) or value
        found = tx.profiles.get(workspace_id, survivor)
        return Viewer(found.id if found else None), tx.workspaces.settings(workspace_id)
    facts = store.viewer_facts(tx, workspace_id, namespace, value)
    token_for = None
    if token and not secret_key:
        secret = identity_secret(facts.signing_key) if facts.signing_key else None
        token_for = token_user(secret, token, now_s) if secret else None
        if token_for is None:
            raise IdentityRefused("the identity token is not valid or has expired")
    if namespace == "user_id" and not secret_key and token_for != value:
        raise IdentityRefused("a user id needs a valid identity token for that user")
    if facts.profile_id is None:
        return Viewer(None), facts.settings
    known_user = namespace == "anonymous_id" and not secret_key and facts.user_ids
    if known_user and token_for not in facts.user_ids:
        raise IdentityRefused("this visitor is a known user: send their identity token")
    return Viewer(facts.profile_id), facts.settings


def surface_settings(workspace_settings: dict[str, Any]) -> dict[str, Any]:
    value = workspace_settings.get("surfaces")
    return value if isinstance(value, dict) else {}
