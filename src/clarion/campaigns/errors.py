"""Errors of campaigns.

    InvalidInput (clarion.model.errors)
    ├── InvalidCampaign      a campaign document is invalid (problems say where)
    └── InvalidTrigger       a trigger call's body is malformed; `field` names what
    NotFound (clarion.model.errors)
    ├── CampaignNotFound     no campaign with that id or name in the workspace
    └── RunNotFound          no such run of the campaign
    Conflict (clarion.model.errors)
    └── CampaignStateError   the action does not fit the campaign's state or type
                             (trigger a draft, activate a stopped run, ...)
    TooLarge (clarion.model.errors)
    └── TriggerTooLarge      too many recipients, or a context over its size limit

Skipped recipients (no address, unsubscribed, past the time limit) are counted
outcomes of a run, never errors.
"""

from __future__ import annotations

from clarion.model.documents import Problem
from clarion.model.errors import Conflict, InvalidInput, NotFound, TooLarge


class InvalidCampaign(InvalidInput):
    """A campaign document is invalid; `problems` lists where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        text = "; ".join(f"{p.path or '(document)'}: {p.message}" for p in problems)
        super().__init__(
            text,
            field=problems[0].path if problems else None,
            problems=[{"path": p.path, "message": p.message} for p in problems],
        )
        self.problems = problems


class InvalidTrigger(InvalidInput):
    """A trigger call's body is malformed."""


class CampaignNotFound(NotFound):
    """No campaign with that id or name."""


class RunNotFound(NotFound):
    """No run with that id for the campaign."""


class CampaignStateError(Conflict):
    """The action does not fit the campaign's state or type."""


class TriggerTooLarge(TooLarge):
    """Too many recipients, or a context too large."""
