"""`CampaignRepo` in SQL: states, runs, snapshots, trigger requests, outcome counts."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from clarion.clock import to_micros
from clarion.storage.campaigns import CampaignRun, CampaignState, RunMessage
from clarion.storage.erasure import erasure_hook
from clarion.storage.schema import (
    campaign_outcomes,
    campaign_recipients,
    campaign_requests,
    campaign_runs,
    campaign_states,
    outbox,
    profiles,
)
from clarion.storage.sql.bulk import BulkInsert
from clarion.storage.sql.dialect import insert_ignoring_conflicts, upsert
from clarion.storage.sql.driver import driver_json, driver_time, execute, json_param

_CHUNK = 5000
# A snapshot writes every recipient of a run at once (a million for a large campaign).
_ADD_RECIPIENTS = BulkInsert(
    campaign_recipients,
    ("run_id", "position", "workspace_id", "profile_id", "due_at", "message_id"),
    ("run_id", "position"),
)
ACTIVE_RUNS = ("pending", "snapshotting", "sending", "delivering")
_NULL = driver_json(None)


@functools.cache
def _queue_sql(dialect: str) -> str:
    """A run's recipients (positions between two bounds) into the outbox in one
    statement: no Python per recipient, the shared values bound once."""
    json = json_param(dialect)
    second = "(due_at / 1000000) * 1000000"
    return (
        "INSERT INTO outbox (id, workspace_id, profile_id, channel, template,"
        " template_version, category, subscription_group, source, context, event, row,"
        " throttle_key, throttle_rate, status, attempts, due_at, created_at, updated_at)"
        " SELECT message_id, workspace_id, profile_id, ?, ?, ?, ?, ?,"
        f" {json}, {json}, {json}, {json}, ?, ?, 'pending', 0,"
        f" CASE WHEN {second} > ? THEN {second} ELSE ? END, ?, ?"
        " FROM campaign_recipients WHERE run_id = ? AND position >= ? AND position <= ?"
        " ORDER BY position ON CONFLICT (id) DO NOTHING"
    )


def _state(row: Any) -> CampaignState:
    return CampaignState(
        workspace_id=row.workspace_id,
        campaign_id=row.campaign_id,
        name=row.name,
        type=row.type,
        status=row.status,
        version=row.version,
        pinned=row.pinned,
        anchor_at=row.anchor_at,
        next_fire_us=row.next_fire_at,
        next_occurrence=row.next_occurrence,
        activated_at=row.activated_at,
        stopped_at=row.stopped_at,
    )


def _run(row: Any) -> CampaignRun:
    return CampaignRun(
        id=row.id,
        workspace_id=row.workspace_id,
        campaign_id=row.campaign_id,
        campaign_name=row.campaign_name,
        version=row.version,
        occurrence_us=row.occurrence_at,
        occurrence=row.occurrence,
        settings=row.settings,
        trigger=row.trigger,
        status=row.status,
        next_at_us=row.next_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        snapshot_at=row.snapshot_at,
        targeted=row.targeted,
        excluded=row.excluded,
        recipients=row.recipients,
        queued=row.queued,
        skipped=dict(row.skipped or {}),
        completed_at=row.completed_at,
        error=row.error,
    )


def _run_values(run: CampaignRun) -> dict[str, Any]:
    return {
        "status": run.status,
        "next_at": run.next_at_us,
        "snapshot_at": run.snapshot_at,
        "targeted": run.targeted,
        "excluded": run.excluded,
        "recipients": run.recipients,
        "queued": run.queued,
        "skipped": run.skipped,
        "error": run.error,
        "updated_at": run.updated_at,
        "completed_at": run.completed_at,
    }


# Built once: building a statement costs more than running it (~150 against ~25 µs),
# and these run for every group of trigger calls.
_STATES = select(campaign_states).where(
    campaign_states.c.workspace_id == bindparam("workspace_id"),
    campaign_states.c.campaign_id.in_(bindparam("ids", expanding=True)),
)
_ANSWERS = select(campaign_requests.c.request_id, campaign_requests.c.answer).where(
    campaign_requests.c.workspace_id == bindparam("workspace_id"),
    campaign_requests.c.campaign_id == bindparam("campaign_id"),
    campaign_requests.c.request_id.in_(bindparam("ids", expanding=True)),
)
_ANSWER = (
    update(campaign_requests)
    .where(
        campaign_requests.c.workspace_id == bindparam("r_ws"),
        campaign_requests.c.campaign_id == bindparam("r_campaign"),
        campaign_requests.c.request_id == bindparam("r_id"),
    )
    .values(answer=bindparam("r_answer"))
)


@functools.cache
def _claim_requests(dialect: str) -> Any:
    """Record request ids, returning those that were new."""
    return insert_ignoring_conflicts(
        dialect, campaign_requests, "workspace_id", "campaign_id", "request_id"
    ).returning(campaign_requests.c.request_id)


class SqlCampaigns:
    """`CampaignRepo` on a SQLAlchemy connection."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self._conn = conn
        self._dialect = dialect

    # --- states ------------------------------------------------------------

    def state(self, workspace_id: str, campaign_id: str) -> CampaignState | None:
        return self.states(workspace_id, [campaign_id]).get(campaign_id)

    def states(self, workspace_id: str, campaign_ids: Sequence[str]) -> dict[str, CampaignState]:
        if not campaign_ids:
            return {}
        params = {"workspace_id": workspace_id, "ids": list(campaign_ids)}
        return {r.campaign_id: _state(r) for r in self._conn.execute(_STATES, params)}

    def put_state(self, state: CampaignState, now: datetime) -> None:
        values = {
            "workspace_id": state.workspace_id,
            "campaign_id": state.campaign_id,
            "name": state.name,
            "type": state.type,
            "status": state.status,
            "version": state.version,
            "pinned": state.pinned,
            "anchor_at": state.anchor_at,
            "next_fire_at": state.next_fire_us,
            "next_occurrence": state.next_occurrence,
            "activated_at": state.activated_at,
            "stopped_at": state.stopped_at,
            "updated_at": now,
        }
        keys = ["workspace_id", "campaign_id"]
        stmt = upsert(self._dialect, campaign_states, keys, [k for k in values if k not in keys])
        self._conn.execute(stmt, [values])

    def delete_state(self, workspace_id: str, campaign_id: str) -> None:
        self._conn.execute(
            delete(campaign_states).where(
                campaign_states.c.workspace_id == workspace_id,
                campaign_states.c.campaign_id == campaign_id,
            )
        )

    def due_states(self, now_us: int, limit: int) -> builtins.list[CampaignState]:
        query = (
            select(campaign_states)
            .where(
                campaign_states.c.status.in_(("scheduled", "running")),
                campaign_states.c.next_fire_at <= now_us,
            )
            .order_by(campaign_states.c.next_fire_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [_state(r) for r in self._conn.execute(query)]

    # --- runs ----------------------------------------------------------------

    def create_run(self, run: CampaignRun) -> bool:
        stmt = (
            insert_ignoring_conflicts(
                self._dialect, campaign_runs, "workspace_id", "campaign_id", "occurrence_at"
            )
            .values(
                id=run.id,
                workspace_id=run.workspace_id,
                campaign_id=run.campaign_id,
                campaign_name=run.campaign_name,
                version=run.version,
                occurrence_at=run.occurrence_us,
                occurrence=run.occurrence,
                settings=run.settings,
                trigger=run.trigger,
                created_at=run.created_at,
                **_run_values(run),
            )
            .returning(campaign_runs.c.id)
        )
        return self._conn.execute(stmt).first() is not None

    def run(self, workspace_id: str, run_id: str, *, lock: bool = False) -> CampaignRun | None:
        query = select(campaign_runs).where(
            campaign_runs.c.workspace_id == workspace_id, campaign_runs.c.id == run_id
        )
        if lock and self._dialect == "postgresql":
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return _run(row) if row else None

    def runs(
        self, workspace_id: str, campaign_id: str, limit: int, before: str | None = None
    ) -> builtins.list[CampaignRun]:
        query = (
            select(campaign_runs)
            .where(
                campaign_runs.c.workspace_id == workspace_id,
                campaign_runs.c.campaign_id == campaign_id,
            )
            .order_by(campaign_runs.c.occurrence_at.desc(), campaign_runs.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(campaign_runs.c.id < before)
        return [_run(r) for r in self._conn.execute(query)]

    def active_runs(self, workspace_id: str, campaign_id: str) -> builtins.list[CampaignRun]:
        rows = self._conn.execute(
            select(campaign_runs).where(
                campaign_runs.c.workspace_id == workspace_id,
                campaign_runs.c.campaign_id == campaign_id,
                campaign_runs.c.status.in_(ACTIVE_RUNS),
            )
        )
        return [_run(r) for r in rows]

    def claim_runs(self, now_us: int, limit: int, lease_us: int) -> builtins.list[CampaignRun]:
        query = (
            select(campaign_runs)
            .where(
                campaign_runs.c.status.in_(ACTIVE_RUNS),
                campaign_runs.c.next_at <= now_us,
                or_(campaign_runs.c.lease_until.is_(None), campaign_runs.c.lease_until <= now_us),
            )
            .order_by(campaign_runs.c.next_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        runs = [_run(r) for r in self._conn.execute(query)]
        if runs:
            self._conn.execute(
                update(campaign_runs)
                .where(campaign_runs.c.id.in_([r.id for r in runs]))
                .values(lease_until=lease_us)
            )
        return runs

    def save_run(self, run: CampaignRun, *, lease_us: int | None = None) -> None:
        self._conn.execute(
            update(campaign_runs)
            .where(campaign_runs.c.id == run.id)
            .values(**_run_values(run), lease_until=lease_us)
        )

    # --- snapshots -----------------------------------------------------------

    def add_recipients(
        self, workspace_id: str, run_id: str, rows: Sequence[tuple[int, str, int, str]]
    ) -> None:
        _ADD_RECIPIENTS.execute(
            self._conn,
            [(run_id, position, workspace_id, pid, due, mid) for position, pid, due, mid in rows],
        )

    def clear_recipients(self, run_id: str) -> None:
        self._conn.execute(
            delete(campaign_recipients).where(campaign_recipients.c.run_id == run_id)
        )

    def queue_recipients(
        self,
        run_id: str,
        start: int,
        limit: int,
        due_before_us: int,
        message: RunMessage,
        now: datetime,
    ) -> int:
        # Positions are in due order, so the recipients due are a prefix of the rest.
        dialect = self._conn.dialect.name
        last = execute(
            self._conn,
            dialect,
            "SELECT MAX(position) FROM (SELECT position FROM campaign_recipients"
            " WHERE run_id = ? AND position >= ? AND due_at <= ? ORDER BY position LIMIT ?)"
            " AS due",
            (run_id, start, due_before_us, limit),
        ).scalar()
        if last is None:
            return start
        now_us, stamp = to_micros(now), driver_time(dialect, now)
        execute(
            self._conn,
            dialect,
            _queue_sql(dialect),
            (
                message.channel,
                message.template,
                message.template_version,
                message.category,
                message.subscription_group,
                driver_json(message.source),
                driver_json(message.context),
                _NULL,  # event and row: JSON null, as every other queued intent
                _NULL,
                message.throttle_key,
                message.throttle_rate,
                now_us,
                now_us,
                stamp,
                stamp,
                run_id,
                start,
                last,
            ),
        )
        return int(last) + 1

    def next_due(self, run_id: str, start: int) -> int | None:
        c = campaign_recipients.c
        found = self._conn.execute(
            select(c.due_at)
            .where(c.run_id == run_id, c.position >= start)
            .order_by(c.position)
            .limit(1)
        ).scalar_one_or_none()
        return int(found) if found is not None else None

    def delivery_counts(self, run_id: str) -> dict[tuple[str, str | None], int]:
        r, o = campaign_recipients.c, outbox.c
        rows = self._conn.execute(
            select(o.status, o.reason, func.count())
            .select_from(campaign_recipients.join(outbox, o.id == r.message_id))
            .where(r.run_id == run_id)
            .group_by(o.status, o.reason)
        )
        return {(status, reason): int(n) for status, reason, n in rows}

    def unfinished(self, run_id: str) -> bool:
        r, o = campaign_recipients.c, outbox.c
        found = self._conn.execute(
            select(r.position)
            .select_from(campaign_recipients.join(outbox, o.id == r.message_id))
            .where(r.run_id == run_id, o.status.in_(("pending", "sending")))
            .limit(1)
        ).first()
        return found is not None

    def expire(self, run_id: str, due_before_us: int, reason: str, now: datetime) -> int:
        r = campaign_recipients.c
        late = select(r.message_id).where(r.run_id == run_id, r.due_at < due_before_us)
        result = self._conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(late.scalar_subquery()), outbox.c.status == "pending")
            .values(status="skipped", reason=reason, lease_until=None, updated_at=now)
        )
        return int(result.rowcount)

    def timezones(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(profile_ids), _CHUNK):
            rows = self._conn.execute(
                select(profiles.c.id, profiles.c.timezone).where(
                    profiles.c.workspace_id == workspace_id,
                    profiles.c.id.in_(list(profile_ids[start : start + _CHUNK])),
                    profiles.c.timezone.is_not(None),
                )
            )
            found.update({pid: tz for pid, tz in rows})
        return found

    # --- trigger requests ----------------------------------------------------

    def claim_requests(
        self, workspace_id: str, campaign_id: str, request_ids: Sequence[str], now: datetime
    ) -> dict[str, dict[str, Any] | None]:
        if not request_ids:
            return {}
        stmt = _claim_requests(self._dialect)
        rows = [
            {
                "workspace_id": workspace_id,
                "campaign_id": campaign_id,
                "request_id": rid,
                "answer": None,
                "created_at": now,
            }
            for rid in request_ids
        ]
        new = {r.request_id for r in self._conn.execute(stmt, rows)}
        found: dict[str, dict[str, Any] | None] = {rid: None for rid in new}
        seen = [rid for rid in request_ids if rid not in new]
        if seen:
            params = {"workspace_id": workspace_id, "campaign_id": campaign_id, "ids": seen}
            stored = self._conn.execute(_ANSWERS, params)
            found.update({rid: dict(answer or {}) for rid, answer in stored})
        return found

    def answer_requests(
        self, workspace_id: str, campaign_id: str, answers: dict[str, dict[str, Any]]
    ) -> None:
        if not answers:
            return
        self._conn.execute(
            _ANSWER,
            [
                {"r_ws": workspace_id, "r_campaign": campaign_id, "r_id": rid, "r_answer": answer}
                for rid, answer in answers.items()
            ],
        )

    # --- outcomes ------------------------------------------------------------

    def message_sources(self, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not message_ids:
            return {}
        rows = self._conn.execute(
            select(outbox.c.id, outbox.c.source).where(outbox.c.id.in_(list(message_ids)))
        )
        return {mid: source for mid, source in rows}

    def count_outcomes(self, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
        if not rows:
            return
        stmt = insert_ignoring_conflicts(self._dialect, campaign_outcomes, "message_id", "outcome")
        self._conn.execute(
            stmt,
            [
                {
                    "workspace_id": ws,
                    "campaign_id": campaign,
                    "run_id": run,
                    "message_id": mid,
                    "outcome": outcome,
                }
                for ws, campaign, run, mid, outcome in rows
            ],
        )

    def outcome_counts(
        self, workspace_id: str, campaign_id: str, run_id: str | None
    ) -> dict[str, int]:
        c = campaign_outcomes.c
        condition = and_(c.workspace_id == workspace_id, c.campaign_id == campaign_id)
        if run_id is not None:
            condition = and_(condition, c.run_id == run_id)
        rows = self._conn.execute(
            select(c.outcome, func.count()).where(condition).group_by(c.outcome)
        )
        return {outcome: int(n) for outcome, n in rows}


@erasure_hook("campaign_recipients")
def _erase_recipients(tx: Any, workspace_id: str, profile_id: str) -> int:
    c = campaign_recipients.c
    return int(
        tx.conn.execute(
            delete(campaign_recipients).where(
                c.workspace_id == workspace_id, c.profile_id == profile_id
            )
        ).rowcount
    )
