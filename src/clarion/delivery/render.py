"""Rendering one message: variables, template fields, tracking, email headers."""

from __future__ import annotations

from typing import Any

from clarion.channels.sms_encoding import sms_info
from clarion.delivery.pipeline.candidate import Candidate
from clarion.delivery.tracking import Links
from clarion.model.messages import RenderedEmail, RenderedMessage


def variables(candidate: Candidate, links: Links | None) -> dict[str, Any]:
    """What templates see: `profile`, `event`, `context`, `row`, `message`."""
    intent = candidate.item.intent
    profile: dict[str, Any] = {}
    if candidate.profile is not None:
        profile = {**candidate.profile.traits, "id": candidate.profile.id}
    message: dict[str, Any] = {"id": intent.message_id}
    if links is not None:
        message["unsubscribe_url"] = links.unsubscribe
    return {
        "profile": profile,
        "event": intent.event or {},
        "context": intent.context,
        "row": intent.row or {},
        "message": message,
    }


def render(candidate: Candidate, links: Links | None) -> RenderedMessage:
    """The message for the provider. Raises python-liquid's errors on a failed render."""
    assert candidate.template is not None and candidate.address is not None
    intent = candidate.item.intent
    fields = candidate.template.render(variables(candidate, links))
    email = None
    if intent.channel == "email":
        html = fields.get("html")
        headers: tuple[tuple[str, str], ...] = ()
        if links is not None:
            if isinstance(html, str):
                html = fields["html"] = links.rewrite(html)
            headers = (
                ("List-Unsubscribe", f"<{links.unsubscribe}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            )
        email = RenderedEmail(
            message_id=intent.message_id,
            sender=str(fields.get("from", "")),
            to=candidate.address,
            subject=str(fields.get("subject", "")),
            html=html if isinstance(html, str) else None,
            text=str(fields.get("text") or ""),
            reply_to=fields.get("reply_to") or None,
            preheader=fields.get("preheader") or None,
            headers=headers,
        )
    elif intent.channel == "sms":
        info = sms_info(str(fields.get("body", "")))
        fields.update(encoding=info.encoding, segments=info.segments)
    return RenderedMessage(
        message_id=intent.message_id,
        workspace_id=intent.workspace_id,
        channel=intent.channel,
        to=candidate.address,
        fields=fields,
        email=email,
        source=intent.source.as_json(),
        profile_id=intent.profile_id,
    )
