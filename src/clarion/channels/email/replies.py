"""SMTP replies and failures as `SendResult`s.

    2xx after DATA                      SENT (the server's text in details)
    4xx at any stage                    TRANSIENT (greylisting, full mailbox, rate limit)
    5xx at any stage                    PERMANENT with the server's text (unknown user,
                                        policy refusal, bad credentials)
    connection refused/dropped, timeout TRANSIENT
    anything else unexpected            TRANSIENT (retrying is the safe default)

`details` carries `stage` (connect, mail, rcpt, data), `smtp_code` and, when
the server gave one, `enhanced_status` (e.g. `5.1.1`).
"""

from __future__ import annotations

import re
from typing import Any

from aiosmtplib import SMTPResponseException

from clarion.channels.base import SendResult, SendStatus

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")


def reply_details(code: int, text: str, stage: str) -> dict[str, Any]:
    """The details recorded for a server reply."""
    details: dict[str, Any] = {"stage": stage, "smtp_code": code, "smtp_text": text}
    match = _ENHANCED.match(text)
    if match:
        details["enhanced_status"] = match.group(1)
    return details


def result_for_reply(code: int, text: str, *, stage: str) -> SendResult:
    """A refusal (any code but success) at `stage`: 5xx PERMANENT, others TRANSIENT."""
    status = SendStatus.PERMANENT if 500 <= code < 600 else SendStatus.TRANSIENT
    return SendResult(
        status=status,
        error=f"SMTP {code} at {stage}: {text}",
        details=reply_details(code, text, stage),
    )


def result_for_error(exc: BaseException, *, stage: str) -> SendResult:
    """A failure raised by the client: a server reply (by its code) or a connection problem."""
    if isinstance(exc, SMTPResponseException) and exc.code >= 200:
        return result_for_reply(exc.code, exc.message, stage=stage)
    kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
    return SendResult(
        status=SendStatus.TRANSIENT,
        error=f"SMTP {kind} at {stage}: {exc}",
        details={"stage": stage, "error_type": type(exc).__name__},
    )
