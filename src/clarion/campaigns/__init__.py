"""Action campaigns (schedules, recurrence, local time, waves, rate control, resumable
runs, reports, test sends) and API-triggered campaigns (transactional or marketing).

The document is `campaigns.spec`; when it sends, `campaigns.schedule` and
`campaigns.plan`; the lifecycle `campaigns.lifecycle`; runs `campaigns.runs`
(driven by `campaigns.scheduler.CampaignLoop`); API calls `campaigns.trigger`.
"""

from clarion.campaigns.errors import (
    CampaignNotFound,
    CampaignStateError,
    InvalidCampaign,
    InvalidTrigger,
    RunNotFound,
    TriggerTooLarge,
)
from clarion.campaigns.kind import CampaignKind
from clarion.campaigns.lifecycle import activate, find_campaign, run_now, state_of, stop
from clarion.campaigns.outcomes import CampaignOutcomes
from clarion.campaigns.proofs import send_proofs
from clarion.campaigns.report import campaign_report, render_run, run_counts
from clarion.campaigns.runs import RunStats, RunWorker, drain_runs
from clarion.campaigns.scheduler import CampaignLoop, fire_due
from clarion.campaigns.spec import CampaignSpec, parse_campaign
from clarion.campaigns.trigger import trigger, trigger_calls, trigger_many
from clarion.campaigns.trigger_request import MAX_RECIPIENTS, parse_trigger

__all__ = [
    "MAX_RECIPIENTS",
    "CampaignKind",
    "CampaignLoop",
    "CampaignNotFound",
    "CampaignOutcomes",
    "CampaignSpec",
    "CampaignStateError",
    "InvalidCampaign",
    "InvalidTrigger",
    "RunNotFound",
    "RunStats",
    "RunWorker",
    "TriggerTooLarge",
    "activate",
    "campaign_report",
    "drain_runs",
    "find_campaign",
    "fire_due",
    "parse_campaign",
    "parse_trigger",
    "render_run",
    "run_counts",
    "run_now",
    "send_proofs",
    "state_of",
    "stop",
    "trigger",
    "trigger_calls",
    "trigger_many",
]
