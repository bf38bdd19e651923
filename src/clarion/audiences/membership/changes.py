"""Membership changes as log events: `audience.entered` and `audience.exited`.

Writers of memberships that count as qualifications (real-time evaluation in
`evaluate`, lists saved by orchestrated canvases) append events of this one
shape, so journeys' audience entries and exits and audiences built on other
audiences follow them alike. Backfills write members without events.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from clarion.clock import to_micros
from clarion.ids import new_id
from clarion.model.events import NewEvent
from clarion.storage.base import Tx


def membership_event(
    kind: str, profile_id: str, audience: str, version: int, now: datetime
) -> NewEvent:
    """An `audience.entered` or `audience.exited` event of one profile."""
    return NewEvent(
        type="track",
        message_id=f"{kind}:{new_id()}",
        event=kind,
        profile_id=profile_id,
        timestamp=now,
        properties={"audience": audience, "audience_version": version},
        origin="internal",
    )


@dataclass(frozen=True, slots=True)
class Replaced:
    """What replacing an audience's members changed."""

    entered: list[str]
    exited: list[str]
    count: int


def replace_members(
    tx: Tx,
    workspace_id: str,
    audience: str,
    version: int,
    members: Collection[str],
    now: datetime,
) -> Replaced:
    """Make `members` the audience's members; an event for each profile that joins or leaves."""
    stored = tx.audiences.all_members(workspace_id, audience)
    wanted = set(members)
    entered, exited = sorted(wanted - stored), sorted(stored - wanted)
    tx.audiences.add(workspace_id, audience, entered, to_micros(now))
    tx.audiences.remove(workspace_id, audience, exited)
    events = [membership_event("audience.entered", p, audience, version, now) for p in entered]
    events += [membership_event("audience.exited", p, audience, version, now) for p in exited]
    if events:
        tx.events.append(workspace_id, events, now, seqs=False)
    return Replaced(entered, exited, len(wanted))
