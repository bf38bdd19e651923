"""Campaigns as a document kind: validated, referencing audiences and a template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.campaigns.errors import CampaignStateError
from clarion.campaigns.spec import campaign_problems
from clarion.documents import DocumentKind, ValidationContext
from clarion.model.documents import Problem, Ref, StoredDocument
from clarion.storage.base import Tx

LIVE = ("scheduled", "running")


class CampaignKind(DocumentKind):
    """`kind: campaign`: an action or API-triggered campaign (see `campaigns.spec`).

    Applying a new version changes nothing that is live: activation pins the
    version it sends, and activating again picks up the new one.
    """

    kind = "campaign"

    def validate(self, spec: Mapping[str, Any], ctx: ValidationContext) -> list[Problem]:
        parsed, problems = campaign_problems(spec)
        if parsed is None:
            return problems
        template = ctx.find(Ref("template", parsed.template))
        channel = template.get("channel") if template else None
        if parsed.channel is not None and channel is not None and parsed.channel != channel:
            problems.append(
                Problem(
                    "channel",
                    f"template {parsed.template!r} is a {channel} template, not {parsed.channel}",
                )
            )
        if parsed.type == "api" and channel in ("web", "code", "content_card", "direct_mail"):
            problems.append(Problem("template", f"API campaigns do not send on {channel}"))
        return problems

    def references(self, spec: Mapping[str, Any]) -> list[Ref]:
        parsed, _problems = campaign_problems(spec)
        if parsed is None:
            return []
        refs = {Ref("template", parsed.template)}
        refs.update(Ref("audience", n) for n in [*parsed.audience, *parsed.exclude])
        if parsed.subscription_group:
            refs.add(Ref("subscription_group", parsed.subscription_group))
        return sorted(refs)

    def on_delete(self, tx: Tx, document: StoredDocument) -> None:
        state = tx.campaigns.state(document.workspace_id, document.id)
        if state is not None and state.status in LIVE:
            raise CampaignStateError(
                f"campaign {document.name!r} is {state.status}; stop it before deleting it",
                field="name",
            )
        tx.campaigns.delete_state(document.workspace_id, document.id)
