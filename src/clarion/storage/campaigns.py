"""The storage interface of campaigns: lifecycle states, runs, snapshots, trigger requests.

`clarion.storage.base.Tx.campaigns` is a `CampaignRepo`; the SQL backend is
`clarion.storage.sql.campaigns`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(slots=True)
class CampaignState:
    """A campaign's lifecycle: status, the pinned definition, the next scheduled run."""

    workspace_id: str
    campaign_id: str
    name: str
    type: str
    status: str
    """draft, scheduled, running, completed or stopped."""
    version: int | None = None
    pinned: dict[str, Any] = field(default_factory=dict)
    """What activation pinned: `spec`, `template_version`, `channel`."""
    anchor_at: datetime | None = None
    next_fire_us: int | None = None
    next_occurrence: dict[str, Any] | None = None
    activated_at: datetime | None = None
    stopped_at: datetime | None = None


@dataclass(slots=True)
class CampaignRun:
    """One run of an action campaign: its snapshot, its progress and its counts."""

    id: str
    workspace_id: str
    campaign_id: str
    campaign_name: str
    version: int
    occurrence_us: int
    occurrence: dict[str, Any]
    settings: dict[str, Any]
    """The pinned spec, template version and channel the run sends with."""
    trigger: str
    """`schedule`, `manual` or `activation`."""
    status: str
    """pending, snapshotting, sending, delivering, completed, stopped or failed."""
    next_at_us: int
    """When the runner should look at the run again."""
    created_at: datetime
    updated_at: datetime
    snapshot_at: datetime | None = None
    targeted: int = 0
    excluded: int = 0
    recipients: int = 0
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    completed_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunMessage:
    """What every message of a run shares: queued for each recipient of its snapshot,
    with the recipient's workspace, profile, message id and due time (`queue_recipients`)."""

    channel: str
    template: str
    template_version: int | None
    category: str
    subscription_group: str | None
    source: dict[str, Any]
    context: dict[str, Any]
    throttle_key: str | None = None
    throttle_rate: float | None = None


class CampaignRepo(Protocol):
    """Campaign states, runs, recipients, trigger requests and outcome counts."""

    def state(self, workspace_id: str, campaign_id: str) -> CampaignState | None: ...

    def states(
        self, workspace_id: str, campaign_ids: Sequence[str]
    ) -> dict[str, CampaignState]: ...

    def put_state(self, state: CampaignState, now: datetime) -> None: ...

    def delete_state(self, workspace_id: str, campaign_id: str) -> None: ...

    def due_states(self, now_us: int, limit: int) -> builtins.list[CampaignState]:
        """Scheduled campaigns whose next run is due (locked; others skip them)."""
        ...

    def create_run(self, run: CampaignRun) -> bool:
        """Insert a run; False if the campaign already has a run for that occurrence."""
        ...

    def run(self, workspace_id: str, run_id: str, *, lock: bool = False) -> CampaignRun | None:
        """A run; with `lock`, held for the rest of the transaction."""
        ...

    def runs(
        self, workspace_id: str, campaign_id: str, limit: int, before: str | None = None
    ) -> builtins.list[CampaignRun]:
        """A campaign's runs, newest first."""
        ...

    def active_runs(self, workspace_id: str, campaign_id: str) -> builtins.list[CampaignRun]: ...

    def claim_runs(self, now_us: int, limit: int, lease_us: int) -> builtins.list[CampaignRun]:
        """Runs due for work, leased to the caller until `lease_us`."""
        ...

    def save_run(self, run: CampaignRun, *, lease_us: int | None = None) -> None:
        """Store a run's progress (and keep or release its lease)."""
        ...

    def add_recipients(
        self, workspace_id: str, run_id: str, rows: Sequence[tuple[int, str, int, str]]
    ) -> None:
        """Snapshot rows: (position, profile id, due µs, message id)."""
        ...

    def clear_recipients(self, run_id: str) -> None: ...

    def queue_recipients(
        self,
        run_id: str,
        start: int,
        limit: int,
        due_before_us: int,
        message: RunMessage,
        now: datetime,
    ) -> int:
        """Queue in the outbox, pending, the run's recipients from position `start` on
        that are due before the bound (at most `limit`, in order), each due at the start
        of its second (or now); a message queued already is left alone. Returns the
        position after the last one queued (`start` when none was due)."""
        ...

    def next_due(self, run_id: str, start: int) -> int | None:
        """The due time of the recipient at position `start`, if any."""
        ...

    def delivery_counts(self, run_id: str) -> dict[tuple[str, str | None], int]:
        """The run's queued messages by outbox (status, reason)."""
        ...

    def unfinished(self, run_id: str) -> bool:
        """Whether any queued message of the run is still pending or sending."""
        ...

    def expire(self, run_id: str, due_before_us: int, reason: str, now: datetime) -> int:
        """Skip the run's messages still pending whose send time was before the bound."""
        ...

    def timezones(self, workspace_id: str, profile_ids: Sequence[str]) -> dict[str, str]:
        """The known time zones of these profiles."""
        ...

    def claim_requests(
        self, workspace_id: str, campaign_id: str, request_ids: Sequence[str], now: datetime
    ) -> dict[str, dict[str, Any] | None]:
        """Record trigger request ids: None for each new one, the stored answer for each
        seen before."""
        ...

    def answer_requests(
        self, workspace_id: str, campaign_id: str, answers: dict[str, dict[str, Any]]
    ) -> None:
        """Store the answers of newly recorded requests."""
        ...

    def message_sources(self, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The outbox source of each of these messages (those still stored)."""
        ...

    def count_outcomes(self, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
        """Record (workspace, campaign id, run id, message id, outcome), once per message."""
        ...

    def outcome_counts(
        self, workspace_id: str, campaign_id: str, run_id: str | None
    ) -> dict[str, int]:
        """Messages per outcome (delivered, opened, clicked, ...) of a run or campaign."""
        ...
