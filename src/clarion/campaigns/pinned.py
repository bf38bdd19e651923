"""What activation pins (the campaign version, its template version and channel),
and the message intents a pinned campaign makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clarion.campaigns.errors import CampaignStateError
from clarion.campaigns.spec import CampaignSpec, parse_campaign
from clarion.model.documents import StoredDocument
from clarion.model.messages import MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind
from clarion.storage.base import Tx
from clarion.storage.campaigns import RunMessage


@dataclass(frozen=True, slots=True)
class Pinned:
    """A campaign as activated: its document, spec, template version and channel."""

    campaign_id: str
    name: str
    version: int
    spec: CampaignSpec
    raw: dict[str, Any]
    template_version: int | None
    channel: str

    def as_json(self) -> dict[str, Any]:
        return {
            "spec": self.raw,
            "template_version": self.template_version,
            "channel": self.channel,
        }

    @classmethod
    def from_json(cls, campaign_id: str, name: str, version: int, data: dict[str, Any]) -> Pinned:
        return cls(
            campaign_id,
            name,
            version,
            parse_campaign(data["spec"]),
            data["spec"],
            data.get("template_version"),
            data["channel"],
        )

    def source(
        self, run: str, row_key: str = "", kind: SourceKind = SourceKind.CAMPAIGN
    ) -> MessageSource:
        return MessageSource(
            kind, self.campaign_id, name=self.name, version=self.version, run=run, row_key=row_key
        )

    def intent(
        self,
        workspace_id: str,
        source: MessageSource,
        *,
        profile_id: str | None = None,
        address: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> MessageIntent:
        """The intent for one recipient (a run queues its recipients in SQL instead:
        `CampaignRepo.queue_recipients` with `run_message`)."""
        spec = self.spec
        intent = MessageIntent(
            workspace_id,
            self.channel,
            spec.template,
            source,
            profile_id=profile_id,
            address=address,
            category=spec.category,
            template_version=self.template_version,
            subscription_group=spec.subscription_group,
            context=spec.context if context is None else context,
        )
        return intent

    def run_message(self, run_id: str) -> RunMessage:
        """What every message of a run shares (`intent`'s fields but the recipient)."""
        spec, rate = self.spec, self.spec.throttle_rate
        return RunMessage(
            self.channel,
            spec.template,
            self.template_version,
            spec.category.value,
            spec.subscription_group,
            self.source(run_id).as_json(),
            spec.context,
            throttle_key=f"campaign:{run_id}" if rate else None,
            throttle_rate=rate,
        )


def pin(tx: Tx, document: StoredDocument) -> Pinned:
    """Pin a campaign document's current version and its template's."""
    spec = parse_campaign(document.spec)
    template = tx.documents.get(document.workspace_id, "template", spec.template)
    if template is None:
        raise CampaignStateError(
            f"template {spec.template!r} does not exist any more", field="template"
        )
    channel = str(template.spec.get("channel") or spec.channel or "")
    return Pinned(
        document.id,
        document.name,
        document.version,
        spec,
        dict(document.spec),
        template.version,
        channel,
    )
