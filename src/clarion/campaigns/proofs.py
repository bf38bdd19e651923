"""Test sends: the campaign's message to named test profiles, before (or after) activation.

A test send pins nothing: it renders the campaign's current version with its
template's latest version. Its messages have source kind `test` (reports and
audiences can tell them apart) and a fresh run each time, so a second test send
goes out again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.campaigns.errors import InvalidTrigger
from clarion.campaigns.pinned import pin
from clarion.delivery import enqueue
from clarion.ids import new_id
from clarion.model.documents import StoredDocument
from clarion.model.errors import NotFound
from clarion.model.outcomes import SourceKind
from clarion.profiles.rules import normalise
from clarion.storage.base import Tx

MAX_TEST_PROFILES = 50


def _resolve(tx: Tx, workspace_id: str, names: list[str]) -> list[str]:
    """Profile ids for ids or `namespace:value` identities; NotFound names the first missing."""
    found = []
    for index, name in enumerate(names):
        profile_id: str | None = None
        if tx.profiles.get(workspace_id, name) is not None:
            profile_id = name
        elif ":" in name:
            namespace, value = name.split(":", 1)
            identity = (namespace, normalise(namespace, value))
            profile_id = tx.profiles.owners(workspace_id, [identity]).get(identity)
        if profile_id is None:
            raise NotFound(f"no profile {name!r}", field=f"profiles[{index}]")
        found.append(profile_id)
    return found


def send_proofs(
    tx: Tx,
    document: StoredDocument,
    profiles: list[str] | None,
    context: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """Queue the campaign's message for each test profile; returns the message ids."""
    pinned = pin(tx, document)
    names = profiles if profiles else pinned.spec.test_profiles
    if not names:
        raise InvalidTrigger(
            "name test profiles (ids or namespace:value), here or in the campaign's test_profiles",
            field="profiles",
        )
    if len(names) > MAX_TEST_PROFILES:
        raise InvalidTrigger(
            f"at most {MAX_TEST_PROFILES} test profiles per call", field="profiles"
        )
    ids = _resolve(tx, document.workspace_id, names)
    run = f"test:{new_id()}"
    source = pinned.source(run, kind=SourceKind.TEST)
    merged = {**pinned.spec.context, **(context or {})}
    intents = [
        pinned.intent(document.workspace_id, source, profile_id=pid, context=merged)
        for pid in dict.fromkeys(ids)
    ]
    enqueue(tx, intents, now)
    return {
        "run": run,
        "messages": [{"profile_id": i.profile_id, "message_id": i.message_id} for i in intents],
    }
