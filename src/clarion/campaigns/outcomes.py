"""A log consumer counting campaign outcomes, once per message and outcome.

Outcome events (`message.delivered`, `message.opened`, ...) carry the campaign
(`source_kind`, `source_id`) but not the run; the run is read from the message's
outbox row. Action runs count their later outcomes here (their sent, skipped and
failed counts are the outbox states); API campaigns count every outcome here,
under the run `api`.
"""

from __future__ import annotations

from clarion.campaigns.report import LATER
from clarion.model.outcomes import SourceKind
from clarion.storage.base import ConsumerBatch, EventFilter, Tx

API_RUN = "api"


class CampaignOutcomes:
    """The `campaign-outcomes` consumer."""

    name = "campaign-outcomes"
    reads = EventFilter(prefixes=("message.",))
    """Only outcome events concern it: the poll skips the rest of the log."""

    def handle(self, tx: Tx, batch: ConsumerBatch) -> None:
        picked = [
            event
            for event in batch.events
            if (event.event or "").startswith("message.")
            and event.properties.get("source_kind") == SourceKind.CAMPAIGN.value
            and isinstance(event.properties.get("message_id"), str)
        ]
        if not picked:
            return
        sources = tx.campaigns.message_sources(
            sorted({str(e.properties["message_id"]) for e in picked})
        )
        rows = []
        for event in picked:
            message_id = str(event.properties["message_id"])
            source = sources.get(message_id)
            if source is None:
                continue
            outcome = (event.event or "").removeprefix("message.")
            run = str(source.get("run") or "")
            if run.startswith("req:"):
                run = API_RUN
            elif outcome not in LATER:
                continue
            rows.append((event.workspace_id, str(source.get("id")), run, message_id, outcome))
        tx.campaigns.count_outcomes(rows)
