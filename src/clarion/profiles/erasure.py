"""GDPR erasure of a profile.

Runs every erasure hook, leaves tombstones of the person's hashed ids (user
and anonymous ids: events for them that arrive later are dropped and counted),
keeps their opt-outs as hashed addresses (so a re-import of the same address is
still opted out), writes an audit record without personal data and appends
`profile.erased` (naming the person by that record's hash) for copies kept from the log.
It holds the identity stage's cursor, so it never interleaves with a batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from clarion.ids import new_id
from clarion.model.consent import Status
from clarion.model.errors import NotFound
from clarion.model.events import NewEvent
from clarion.profiles.consent import ADDRESS_NAMESPACE, address_hash
from clarion.profiles.stage import IDENTITY_STAGE, identity_hash
from clarion.storage.base import Tx


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed, per table, and its audit record id."""

    audit_id: str
    rows: dict[str, int]


def erase_profile(
    tx: Tx, workspace_id: str, profile_id: str, key_id: str | None, now: datetime
) -> ErasureReport:
    """Forget a person; raises NotFound for an unknown profile."""
    tx.events.lock(IDENTITY_STAGE)
    subject = tx.profiles.survivor(workspace_id, profile_id) or profile_id
    record = tx.profiles.get(workspace_id, subject)
    if record is None:
        raise NotFound(f"no profile {profile_id!r}")
    # Ids that SDK retries and queued events carry are tombstoned; addresses are
    # not (a re-import may bring the person back), but their opt-outs stay as hashes.
    tombstoned = [i for i in record.identities if i[0] not in ADDRESS_NAMESPACE.values()]
    tx.tombstones.add(workspace_id, [identity_hash(workspace_id, i) for i in tombstoned], now)
    for state in tx.consent.profile_states(workspace_id, subject):
        namespace = ADDRESS_NAMESPACE.get(state.channel)
        if state.status is not Status.UNSUBSCRIBED or namespace is None:
            continue
        for address in record.values(namespace):
            tx.consent.set_address_state(
                workspace_id,
                state.channel,
                address_hash(state.channel, address),
                None,
                state.group,
                Status.UNSUBSCRIBED,
                state.source,
                now,
            )
    rows = tx.erase_profile(workspace_id, subject)
    for channel, namespace in ADDRESS_NAMESPACE.items():
        for address in record.values(namespace):
            tx.consent.forget_address(workspace_id, channel, address_hash(channel, address))
    subject_hash = hashlib.sha256(f"{workspace_id}:{subject}".encode()).hexdigest()
    # Copies kept from the log (the DuckDB copy) forget the person too; the event
    # names them only by the audit record's hash.
    erased = NewEvent(
        type="track",
        message_id=f"profile.erased:{new_id()}",
        event="profile.erased",
        properties={"subject_hash": subject_hash},
        timestamp=now,
        origin="internal",
    )
    tx.events.append(workspace_id, [erased], now)
    audit_id = tx.tombstones.audit(workspace_id, subject_hash, key_id, rows, now)
    return ErasureReport(audit_id, rows)
