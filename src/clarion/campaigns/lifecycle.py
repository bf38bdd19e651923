"""A campaign's lifecycle: draft -> scheduled -> running -> completed, stopped at any time.

A campaign document starts as a draft (it has no state). Activation pins the
current version and its template version, and either starts a run at once (no
schedule), or schedules the first occurrence; API campaigns become `running`
(they accept triggers). The scheduler turns due occurrences into runs; when the
last run of the last occurrence ends, the campaign is `completed`. Stopping ends
the schedule and the runs in progress (recipients not yet queued are counted as
skipped with reason `stopped`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from clarion.campaigns.errors import CampaignNotFound, CampaignStateError
from clarion.campaigns.pinned import Pinned, pin
from clarion.campaigns.plan import STOPPED
from clarion.campaigns.schedule import Occurrence, next_occurrence, occurrence_of, wall_time
from clarion.clock import to_micros
from clarion.ids import new_id
from clarion.model.documents import StoredDocument
from clarion.storage.base import Tx
from clarion.storage.campaigns import CampaignRun, CampaignState

_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""Document ids (UUIDv7); anything else in a path is a name."""
LATEST_OFFSET = timedelta(hours=12)
"""The furthest-behind UTC offset (UTC-12): the last zone to reach a local time."""


def find_campaign(tx: Tx, workspace_id: str, ref: str) -> StoredDocument:
    """A campaign document by id or by name."""
    doc = tx.documents.get_by_id(workspace_id, ref) if _ID.match(ref) else None
    if doc is None or doc.kind != "campaign":
        doc = tx.documents.get(workspace_id, "campaign", ref)
    if doc is None:
        raise CampaignNotFound(f"no campaign {ref!r}", field="campaign")
    return doc


def state_of(tx: Tx, document: StoredDocument) -> CampaignState:
    """The campaign's state (a draft has none stored)."""
    found = tx.campaigns.state(document.workspace_id, document.id)
    if found is not None:
        return found
    kind = str(document.spec.get("type") or "action")
    return CampaignState(document.workspace_id, document.id, document.name, kind, "draft")


def pinned_of(state: CampaignState) -> Pinned:
    assert state.version is not None
    return Pinned.from_json(state.campaign_id, state.name, state.version, state.pinned)


def new_run(
    state: CampaignState, occurrence: Occurrence, trigger: str, now: datetime
) -> CampaignRun:
    """A pending run of the pinned campaign for one occurrence."""
    fire = max(occurrence.fire_at, now) if trigger != "schedule" else occurrence.fire_at
    return CampaignRun(
        id=new_id(),
        workspace_id=state.workspace_id,
        campaign_id=state.campaign_id,
        campaign_name=state.name,
        version=state.version or 0,
        occurrence_us=to_micros(occurrence.fire_at if trigger == "schedule" else now),
        occurrence=occurrence.as_json(),
        settings=state.pinned,
        trigger=trigger,
        status="pending",
        next_at_us=to_micros(fire),
        created_at=now,
        updated_at=now,
    )


def first_occurrence(pinned: Pinned, now: datetime) -> Occurrence | None:
    """The first occurrence not yet over at activation (local time: some zone still
    ahead of its wall-clock time)."""
    schedule = pinned.spec.schedule
    assert schedule is not None
    if not schedule.local_time:
        return next_occurrence(schedule, now, now, inclusive=True)
    after = now - timedelta(hours=27)
    while (found := next_occurrence(schedule, after, now, inclusive=True)) is not None:
        if found.wall.replace(tzinfo=now.tzinfo) + LATEST_OFFSET > now:
            return found
        after = found.fire_at + timedelta(microseconds=1)
    return None


def activate(tx: Tx, document: StoredDocument, now: datetime) -> CampaignState:
    """Pin the current version and schedule (or start) the campaign."""
    state = state_of(tx, document)
    busy = tx.campaigns.active_runs(document.workspace_id, document.id)
    if busy:
        raise CampaignStateError(
            f"campaign {document.name!r} has a run in progress; stop it or let it finish",
            field="campaign",
        )
    pinned = pin(tx, document)
    state.type, state.version, state.pinned = pinned.spec.type, pinned.version, pinned.as_json()
    state.anchor_at, state.activated_at, state.stopped_at = now, now, None
    state.next_fire_us, state.next_occurrence = None, None
    schedule = pinned.spec.schedule
    if pinned.spec.type == "api":
        _, end = schedule.bounds() if schedule else (None, None)
        if schedule is not None and end is not None and wall_time(now, schedule.tz) >= end:
            raise CampaignStateError("the campaign's end date has passed", field="schedule.end")
        state.status = "running"
    elif schedule is None:
        state.status = "running"
        run = new_run(state, immediate(now), "activation", now)
        tx.campaigns.create_run(run)
    else:
        occurrence = first_occurrence(pinned, now)
        if occurrence is None:
            raise CampaignStateError(
                "the schedule has no occurrence left (its time or end date has passed)",
                field="schedule",
            )
        state.status = "scheduled"
        state.next_fire_us = max(to_micros(occurrence.fire_at), to_micros(now))
        state.next_occurrence = occurrence.as_json()
    tx.campaigns.put_state(state, now)
    return state


def immediate(now: datetime) -> Occurrence:
    """The occurrence of a run started by hand: now."""
    return occurrence_of(None, now.astimezone(UTC).replace(tzinfo=None))


def run_now(tx: Tx, document: StoredDocument, now: datetime) -> CampaignRun:
    """Start a run at once (`clarion campaigns run`), pinning the current version if the
    campaign is a draft; a scheduled campaign keeps its schedule."""
    state = state_of(tx, document)
    if state.type != "action" and document.spec.get("type", "action") != "action":
        raise CampaignStateError("only action campaigns run; API campaigns are triggered")
    if state.status in ("draft", "completed", "stopped"):
        pinned = pin(tx, document)
        state.version, state.pinned = pinned.version, pinned.as_json()
        state.anchor_at, state.activated_at, state.stopped_at = now, now, None
        state.next_fire_us, state.next_occurrence = None, None
    state.status = "running"
    run = new_run(state, immediate(now), "manual", now)
    tx.campaigns.create_run(run)
    tx.campaigns.put_state(state, now)
    return run


def stop(tx: Tx, document: StoredDocument, now: datetime) -> CampaignState:
    """Stop the schedule and every run in progress."""
    state = state_of(tx, document)
    if state.status not in ("scheduled", "running"):
        raise CampaignStateError(
            f"campaign {document.name!r} is {state.status}, not live", field="campaign"
        )
    for active in tx.campaigns.active_runs(document.workspace_id, document.id):
        run = tx.campaigns.run(document.workspace_id, active.id, lock=True)
        if run is not None:
            stop_run(run, now)
            tx.campaigns.save_run(run)
    state.status, state.stopped_at = "stopped", now
    state.next_fire_us, state.next_occurrence = None, None
    tx.campaigns.put_state(state, now)
    return state


def stop_run(run: CampaignRun, now: datetime) -> None:
    """End a run: what was not queued yet is skipped with reason `stopped`."""
    left = run.recipients - run.queued if run.status in ("sending", "delivering") else 0
    if left > 0:
        run.skipped[STOPPED] = run.skipped.get(STOPPED, 0) + left
    run.status, run.completed_at, run.updated_at = "stopped", now, now


def settle(tx: Tx, run: CampaignRun, now: datetime) -> None:
    """After a run ends: the campaign is scheduled again, or completed."""
    state = tx.campaigns.state(run.workspace_id, run.campaign_id)
    if state is None or state.status != "running" or state.type != "action":
        return
    if any(r.id != run.id for r in tx.campaigns.active_runs(run.workspace_id, run.campaign_id)):
        return
    state.status = "scheduled" if state.next_fire_us is not None else "completed"
    tx.campaigns.put_state(state, now)
