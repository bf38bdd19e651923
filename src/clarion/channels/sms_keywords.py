"""SMS keywords as carriers and Twilio define them: opt-out, opt-in, help.

A keyword is the whole message, trimmed and case-folded (exact, single word),
as Twilio and Braze match them.
"""

from __future__ import annotations

from enum import StrEnum

OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN = frozenset({"start", "unstop", "yes"})
HELP = frozenset({"help", "info"})

DEFAULT_REPLIES = {
    "opt_out": "You have been unsubscribed and will receive no more messages. "
    "Reply START to resubscribe.",
    "opt_in": "You have been resubscribed. Reply STOP to unsubscribe, HELP for help.",
    "help": "Reply STOP to unsubscribe. Msg&data rates may apply.",
}


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


def classify(body: str) -> Keyword | None:
    """The keyword an inbound message is, or None for an ordinary message."""
    word = body.strip().casefold()
    if word in OPT_OUT:
        return Keyword.OPT_OUT
    if word in OPT_IN:
        return Keyword.OPT_IN
    if word in HELP:
        return Keyword.HELP
    return None
