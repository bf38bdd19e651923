"""Vendors' delivery feedback and inbound SMS, mapped onto Clarion's outcomes and consent.

- `POST /v1/webhooks/twilio/status?workspace=&message=`: Twilio's status callback
  (the URL the Twilio provider gives each message), `X-Twilio-Signature` verified
  with the workspace's auth token.
- `POST /v1/webhooks/twilio/inbound?workspace=`: inbound SMS (set as the number's
  messaging webhook): STOP/START/HELP keywords change SMS consent for the
  number and answer in TwiML as carriers expect.
- `POST /v1/webhooks/ses`: SES events through an SNS HTTPS subscription whose URL
  carries a secret key as Basic auth user (`https://sk_...:@host/v1/webhooks/ses`);
  the SNS signature is verified, subscription confirmations are confirmed.
- `POST /v1/webhooks/postmark`: Postmark's webhooks, with the secret key as Basic
  auth user (Postmark's documented protection).
Hard bounces and complaints suppress the address; every delivery, bounce,
complaint, open and click of a known message becomes its outcome event.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clarion.api.auth import secret_principal
from clarion.api.services import Services, get_services
from clarion.channels.feedback import Feedback, our_message_id, record_feedback
from clarion.channels.sms_keywords import DEFAULT_REPLIES, Keyword, classify
from clarion.channels.sns import SnsError, SnsVerifier
from clarion.channels.twilio import signature_valid
from clarion.model.consent import WHOLE_CHANNEL, Source, Status
from clarion.model.errors import Forbidden, InvalidInput
from clarion.model.events import NewEvent
from clarion.model.roles import Role
from clarion.model.workspaces import Principal
from clarion.outbound import Outbound, OutboundError
from clarion.profiles.consent import ConsentChangeRequest, set_address_consent
from clarion.profiles.rules import normalise

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
_BASIC = {"WWW-Authenticate": 'Basic realm="clarion"'}


def basic_editor(request: Request, services: Services = Depends(get_services)) -> Principal:
    """A secret key with the editor role, as Basic auth user (vendors embed it in the URL)."""
    try:
        principal = secret_principal(request, services)
    except HTTPException as exc:
        raise HTTPException(exc.status_code, exc.detail, headers=_BASIC) from None
    if not principal.allows(Role.EDITOR):
        raise Forbidden(f"this needs the editor role; the key has {principal.role}")
    return principal


# --- Twilio ----------------------------------------------------------------


async def _twilio_form(request: Request, services: Services) -> tuple[str, dict[str, str], Any]:
    """(workspace, POST params, sms settings) of a request whose Twilio signature holds."""
    workspace_id = request.query_params.get("workspace", "")
    body = (await request.body()).decode("utf-8", errors="replace")
    params = parse_qsl(body, keep_blank_values=True)
    with services.db.read() as tx:
        configs = tx.channel_configs(workspace_id) if workspace_id else {}
    provider, settings = configs.get("sms", ("", {}))
    token = settings.get("auth_token") if provider == "twilio" else None
    url = services.settings.base_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not isinstance(token, str) or not signature_valid(
        token, url, params, request.headers.get("x-twilio-signature")
    ):
        raise HTTPException(401, "the X-Twilio-Signature does not verify")
    return workspace_id, dict(params), settings


SMS_FAILED_HARD = frozenset({"21211", "21614", "30005", "30006"})
"""Twilio error codes of numbers that cannot receive SMS (invalid, landline, unknown)."""


@router.post("/twilio/status")
async def twilio_status(request: Request, services: Services = Depends(get_services)) -> Any:
    """Twilio's message status callback: delivered, undelivered, failed, ..."""
    workspace_id, form, _settings = await _twilio_form(request, services)
    status = form.get("MessageStatus", "")
    message_id = request.query_params.get("message")
    mapped = {"delivered": "delivered", "undelivered": "bounced", "failed": "bounced"}.get(status)
    if mapped is None:
        return {"recorded": None, "status": status}
    code = form.get("ErrorCode", "")
    item = Feedback(
        channel="sms",
        status=mapped,
        message_id=message_id,
        address=form.get("To") or None,
        bounce_type="hard" if code in SMS_FAILED_HARD else "soft",
        reason=f"twilio {status} {code}".strip(),
        provider="twilio",
    )

    def run() -> dict[str, Any]:
        with services.db.write() as tx:
            return record_feedback(tx, workspace_id, item, services.clock.now())

    result = await run_in_threadpool(run)
    services.wake_consumers()
    return result


def _twiml(text: str | None) -> Response:
    inner = f"<Message>{escape(text)}</Message>" if text else ""
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return Response(xml, media_type="text/xml")


@router.post("/twilio/inbound")
async def twilio_inbound(request: Request, services: Services = Depends(get_services)) -> Any:
    """An inbound SMS: keywords change consent for the sender's number and are answered."""
    workspace_id, form, settings = await _twilio_form(request, services)
    sender = normalise("phone", form.get("From", ""))
    keyword = classify(form.get("Body", ""))
    if not sender:
        raise InvalidInput("From is missing", field="From")
    now = services.clock.now()

    def run() -> None:
        with services.db.write() as tx:
            owner = tx.profiles.owners(workspace_id, [("phone", sender)]).get(("phone", sender))
            if keyword in (Keyword.OPT_OUT, Keyword.OPT_IN):
                status = Status.UNSUBSCRIBED if keyword is Keyword.OPT_OUT else Status.SUBSCRIBED
                source = Source.STOP_KEYWORD if keyword is Keyword.OPT_OUT else Source.START_KEYWORD
                set_address_consent(
                    tx,
                    workspace_id,
                    sender,
                    ConsentChangeRequest("sms", WHOLE_CHANNEL, status),
                    source.value,
                    now,
                )
            name = (
                {
                    Keyword.OPT_OUT: "SMS Opted Out",
                    Keyword.OPT_IN: "SMS Opted In",
                    Keyword.HELP: "SMS Help Requested",
                }.get(keyword, "SMS Received")
                if keyword
                else "SMS Received"
            )
            event = NewEvent(
                type="track",
                message_id=f"twilio:{form.get('MessageSid') or form.get('SmsSid') or now}",
                event=name,
                profile_id=owner,
                properties={"from": sender, "to": form.get("To", ""), "keyword": keyword},
                timestamp=now,
                origin="internal",
            )
            tx.events.append(workspace_id, [event], now)

    await run_in_threadpool(run)
    services.wake_consumers()
    replies = settings.get("replies")
    replies = replies if isinstance(replies, dict) else {}
    if keyword is None or replies.get("enabled") is False:
        return _twiml(None)
    return _twiml(str(replies.get(keyword.value) or DEFAULT_REPLIES[keyword.value]))


# --- Amazon SES through SNS -----------------------------------------------


def _verifier(services: Services) -> SnsVerifier:
    verifier = services.extras.get("sns_verifier")
    if not isinstance(verifier, SnsVerifier):
        outbound = services.extras["outbound"]
        assert isinstance(outbound, Outbound)
        verifier = SnsVerifier(outbound.client)
        services.extras["sns_verifier"] = verifier
    return verifier


def ses_feedback(event: dict[str, Any]) -> list[Feedback]:
    """SES notification (or configuration-set event) -> one feedback per recipient."""
    kind = str(event.get("notificationType") or event.get("eventType") or "")
    mail: dict[str, Any] = event["mail"] if isinstance(event.get("mail"), dict) else {}
    common: dict[str, Any] = (
        mail["commonHeaders"] if isinstance(mail.get("commonHeaders"), dict) else {}
    )
    header = common.get("messageId")
    for entry in mail.get("headers") or []:
        if isinstance(entry, dict) and str(entry.get("name", "")).lower() == "message-id":
            header = header or entry.get("value")
    message_id = our_message_id(header if isinstance(header, str) else None)
    base: dict[str, Any] = {"channel": "email", "message_id": message_id, "provider": "ses"}
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        hard = bounce.get("bounceType") == "Permanent"
        return [
            Feedback(
                status="bounced",
                address=r.get("emailAddress"),
                bounce_type="hard" if hard else "soft",
                reason=str(r.get("diagnosticCode") or bounce.get("bounceSubType") or ""),
                **base,
            )
            for r in bounce.get("bouncedRecipients") or []
            if isinstance(r, dict)
        ]
    if kind == "Complaint":
        complaint = event.get("complaint") or {}
        return [
            Feedback(
                status="complained",
                address=r.get("emailAddress"),
                reason=str(complaint.get("complaintFeedbackType") or ""),
                **base,
            )
            for r in complaint.get("complainedRecipients") or []
            if isinstance(r, dict)
        ]
    if kind == "Delivery":
        recipients = (event.get("delivery") or {}).get("recipients") or []
        return [Feedback(status="delivered", address=str(r), **base) for r in recipients]
    return []


@router.post("/ses")
async def ses(
    request: Request,
    principal: Principal = Depends(basic_editor),
    services: Services = Depends(get_services),
) -> Any:
    """An SNS message carrying an SES event (or asking to confirm the subscription)."""
    try:
        message = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidInput("not an SNS message", field="body") from None
    if not isinstance(message, dict):
        raise InvalidInput("not an SNS message", field="body")
    verifier = _verifier(services)
    try:
        await verifier.verify(message)
    except SnsError as exc:
        raise HTTPException(401, f"SNS signature refused: {exc}") from None
    except OutboundError as exc:  # SNS retries a 5xx: the certificate may be reachable later
        raise HTTPException(
            503, f"the SNS signing certificate could not be fetched: {exc}"
        ) from None
    with services.db.read() as tx:
        ses_settings = tx.workspaces.settings(principal.workspace_id).get("ses") or {}
    topics = ses_settings.get("topic_arns") if isinstance(ses_settings, dict) else None
    if isinstance(topics, list) and topics and message.get("TopicArn") not in topics:
        raise Forbidden("this SNS topic is not one of the workspace's ses.topic_arns")
    if message["Type"] == "SubscriptionConfirmation":
        try:
            await verifier.confirm(message)
        except SnsError as exc:
            raise InvalidInput(str(exc), field="SubscribeURL") from None
        except OutboundError as exc:
            raise HTTPException(503, f"confirming the subscription failed: {exc}") from None
        return {"confirmed": True}
    if message["Type"] != "Notification":
        return {"recorded": []}
    try:
        event = orjson.loads(str(message.get("Message", "")))
    except orjson.JSONDecodeError:
        raise InvalidInput("the SNS Message is not an SES event", field="Message") from None
    items = ses_feedback(event) if isinstance(event, dict) else []
    return await _record(services, principal.workspace_id, items)


async def _record(services: Services, workspace_id: str, items: list[Feedback]) -> Any:
    def run() -> list[dict[str, Any]]:
        now = services.clock.now()
        with services.db.write() as tx:
            return [record_feedback(tx, workspace_id, item, now) for item in items]

    results = await run_in_threadpool(run)
    services.wake_consumers()
    return {"recorded": results}


# --- Postmark ----------------------------------------------------------------

POSTMARK_SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "AutoResponder", "Blocked"})


def postmark_feedback(body: dict[str, Any]) -> list[Feedback]:
    record = str(body.get("RecordType", ""))
    metadata: dict[str, Any] = body["Metadata"] if isinstance(body.get("Metadata"), dict) else {}
    message_id = our_message_id(str(metadata.get("message_id") or "")) or our_message_id(
        str(body.get("MessageID") or "")
    )
    address = body.get("Email") or body.get("Recipient")
    base: dict[str, Any] = {
        "channel": "email",
        "message_id": message_id,
        "address": address if isinstance(address, str) else None,
        "provider": "postmark",
    }
    kind = str(body.get("Type", ""))
    if record == "Bounce" and kind == "SpamComplaint":
        record = "SpamComplaint"
    if record == "Bounce":
        hard = kind == "HardBounce" or body.get("TypeCode") == 1
        soft = kind in POSTMARK_SOFT or not hard
        return [
            Feedback(
                status="bounced",
                bounce_type="soft" if soft else "hard",
                reason=str(body.get("Description") or kind),
                **base,
            )
        ]
    status = {
        "SpamComplaint": "complained",
        "Delivery": "delivered",
        "Open": "opened",
        "Click": "clicked",
    }.get(record)
    return [Feedback(status=status, **base)] if status else []


@router.post("/postmark")
async def postmark(
    request: Request,
    principal: Principal = Depends(basic_editor),
    services: Services = Depends(get_services),
) -> Any:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidInput("not a Postmark webhook", field="body") from None
    if not isinstance(body, dict) or "RecordType" not in body:
        raise InvalidInput("not a Postmark webhook (no RecordType)", field="RecordType")
    return await _record(services, principal.workspace_id, postmark_feedback(body))
