"""Counts of runs and campaigns: targeted, excluded, sent, skipped by reason, failed,
and later outcomes (delivered, opened, clicked, ...) from the outcome events.

`sent`, `skipped` and `failed` are the current states of the run's messages in
the outbox (exact, and live while the run sends); skips decided before queueing
(`time_limit`, `local_time_passed`, `stopped`) come from the run itself. Later
outcomes are counted once per message by `campaigns.outcomes`.
"""

from __future__ import annotations

from typing import Any

from clarion.storage.base import Tx
from clarion.storage.campaigns import CampaignRun

LATER = ("delivered", "opened", "clicked", "bounced", "unsubscribed", "complained")


def run_counts(tx: Tx, run: CampaignRun) -> dict[str, Any]:
    """A run's counts."""
    sent = failed = pending = 0
    skipped: dict[str, int] = dict(run.skipped)
    for (status, reason), n in tx.campaigns.delivery_counts(run.id).items():
        if status == "sent":
            sent += n
        elif status == "failed":
            failed += n
        elif status == "skipped":
            key = reason or "skipped"
            skipped[key] = skipped.get(key, 0) + n
        else:
            pending += n
    later = tx.campaigns.outcome_counts(run.workspace_id, run.campaign_id, run.id)
    return {
        "targeted": run.targeted,
        "excluded": run.excluded,
        "recipients": run.recipients,
        "queued": run.queued,
        "pending": pending,
        "sent": sent,
        "failed": failed,
        "skipped": sum(skipped.values()),
        "skipped_by_reason": dict(sorted(skipped.items())),
        **{name: later.get(name, 0) for name in LATER},
    }


def render_run(tx: Tx, run: CampaignRun, *, counts: bool = True) -> dict[str, Any]:
    """A run as the API shows it."""
    out: dict[str, Any] = {
        "id": run.id,
        "campaign": {"id": run.campaign_id, "name": run.campaign_name},
        "version": run.version,
        "trigger": run.trigger,
        "status": run.status,
        "occurrence": run.occurrence,
        "snapshot": {"at": run.snapshot_at, "count": run.recipients + sum(run.skipped.values())}
        if run.snapshot_at
        else None,
        "created_at": run.created_at,
        "completed_at": run.completed_at,
        "error": run.error,
    }
    if counts:
        out["counts"] = run_counts(tx, run)
    return out


def api_counts(tx: Tx, workspace_id: str, campaign_id: str) -> dict[str, Any]:
    """An API campaign's counts: every outcome of its messages, once per message."""
    found = tx.campaigns.outcome_counts(workspace_id, campaign_id, None)
    return {name: found.get(name, 0) for name in ("sent", "skipped", "failed", *LATER)}


def campaign_report(tx: Tx, workspace_id: str, campaign_id: str, kind: str) -> dict[str, Any]:
    """Totals over a campaign's runs (the latest 100), and each run's counts."""
    if kind == "api":
        return {"totals": api_counts(tx, workspace_id, campaign_id), "runs": []}
    runs = [render_run(tx, r) for r in tx.campaigns.runs(workspace_id, campaign_id, 100)]
    totals: dict[str, Any] = {}
    reasons: dict[str, int] = {}
    for run in runs:
        for name, value in run["counts"].items():
            if name == "skipped_by_reason":
                for reason, n in value.items():
                    reasons[reason] = reasons.get(reason, 0) + n
            else:
                totals[name] = totals.get(name, 0) + value
    totals["skipped_by_reason"] = dict(sorted(reasons.items()))
    return {"totals": totals, "runs": runs}
