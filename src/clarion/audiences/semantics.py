"""What every node and operator means: the one reference both compilers follow.

The SQL compiler (`clarion.audiences.sql`, on SQLite, PostgreSQL and DuckDB) and
the in-memory evaluator (`clarion.audiences.memory`) must return the same
members; the equivalence property tests check it on random data. These are the
rules, corner cases included.

**Values.** A path (`address.city`) walks JSON objects only: through an array,
a string or a missing key it finds nothing (`tags.0` is not an array index).
A value is missing, null, a boolean, a number, a string, an array or an object.

**Type-strict comparisons.** A comparison holds only between values of the
same type: the number `42` never equals the string `"42"`, and booleans are not
numbers (`true` is not `1`). A value of the wrong type compares false exactly
like a missing one, for every operator, `ne` and `not_in` included: `ne: "a"`
holds for the string `"b"`, not for `5`, `null` or a missing trait (to include
those, write `not: {trait: {op: eq}}`). `not_in` holds for a value whose type
is one of the list's types and that equals none of them.

**Numbers** compare as IEEE-754 doubles in every engine: `1 == 1.0`, and
integers beyond 2**53 compare after rounding to the nearest double (as JSON
numbers do in JavaScript). Only finite numbers exist (JSON has no NaN or
infinity; the ingestion stage must reject numbers beyond the double range).

**Strings** compare by Unicode code point (PostgreSQL with `COLLATE "C"`,
SQLite and DuckDB by UTF-8 bytes, which orders the same), case-sensitively,
without Unicode normalisation (`é` and `e` + combining accent differ). They
never hold NUL or lone surrogates (PostgreSQL cannot store them; ingestion
must reject them).
`contains`, `starts_with`, `ends_with` are case-sensitive; the empty string is
contained in, starts and ends every string. `contains` on an array holds when
an element equals the value (type-strict); on a string, when the value is a
substring (the value must then be a string). `exists` is true for any present,
non-null value (empty strings and arrays included); `not_exists` for missing
and null. `between [a, b]` includes both ends.

**Dates and date-times** are ISO 8601 strings of the shapes listed in
`clarion.model.durations` (`2026-01-31`, `2026-01-31T09:00:00Z`,
`...T09:00:00.123+02:00`, no zone meaning UTC). Each engine parses them with
the same integer arithmetic on the characters (never the engine's own date
parser, whose leniency differs), so `2023-02-29` or `2026-13-01` is not a date
anywhere and compares false. A date means midnight UTC. Date operators:
`before X` is `t < X`, `after X` is `t > X`, where X is an instant or a window
standing for `now - N` (`{last: N}`) or `now + N` (`{next: N}`);
`within_last N` is `now - N < t <= now`; `within_next N` is `now <= t < now + N`.

**Time zone.** Date operators and windows work in UTC instants. The profile's
own time zone is not applied here (SQLite has no time zone database); the
`time` node, declared for the journeys issue, is where local time belongs.

**Anniversaries** (`anniversary_within_next {next: N}`): the month and day
written in the value (its local date as written, not converted to UTC) recur
every year; the next recurrence on or after today (the UTC date of `now`) is at
most `floor(N / 1 day)` days away: `{next: 7, unit: days}` is today and the 7
days after; `{next: 12, unit: hours}` is today only. A 29 February recurs on
28 February in years that are not leap years.

**Events** count when their `type` is `track`, their `event` is the name, a
profile id is stamped on them, and every `where` condition holds on their
`properties`. Windows use the event's corrected `timestamp` (µs, UTC). Without
`within`, every such event of the profile counts. `count` defaults to "at least
once"; `not_performed` is "not (count >= 1)". `last_performed` compares the
time of the most recent matching event (any time) and is false when there is
none.

**Message outcomes** are `performed` on `message.<outcome>` (see
`outcome_as_performed`); `received` means `message.delivered`: a bounced
message was sent but never received. `campaign: X` matches outcomes whose
`source_name` is X and `source_kind` is `campaign` or `api` (API-triggered
campaigns are campaigns); `journey` and `canvas` match their own kind.

**Consent** (`subscribed`) follows `clarion.model.consent.is_subscribed` as
`clarion.profiles.consent.is_profile_subscribed` applies it: the profile's own
states and the states of its addresses are folded (an unsubscribe anywhere
wins); the group's default is found by the group's name, and a group name
that does not exist leaves the channel's state alone to decide. An address
state belongs to a profile holding that address as an identity (email
addresses for `email`, phone numbers for `sms`, postal for `direct_mail`),
matched by the stored normalised address: a state kept only as a hash (its
person was erased) matches no profile here, though the delivery pipeline's
send-time check still matches it by hash.

**Membership of another audience** (`in_audience`) inlines that audience's
definition (cycles are rejected).
"""

from __future__ import annotations

from collections.abc import Mapping

from clarion.model.audience_conditions import Condition
from clarion.model.audience_nodes import MessageOutcome, Performed
from clarion.profiles.consent import ADDRESS_NAMESPACE

TRACK = "track"
"""The Segment call type of named events."""

ADDRESS_NAMESPACES: Mapping[str, str] = ADDRESS_NAMESPACE
"""The identity namespace holding a channel's addresses (the consent API's)."""

RECEIVED_EVENT = "message.delivered"
"""What `message_outcome: received` counts."""

_SOURCE_KINDS = {"campaign": ["campaign", "api"], "journey": ["journey"], "canvas": ["canvas"]}


def outcome_event(outcome: str) -> str:
    """The event name of a `message_outcome` outcome."""
    return RECEIVED_EVENT if outcome == "received" else f"message.{outcome}"


def outcome_as_performed(node: MessageOutcome) -> Performed:
    """`message_outcome` is sugar: the equivalent `performed` node."""
    where: list[Condition] = []
    for field, kinds in _SOURCE_KINDS.items():
        name = getattr(node, field)
        if name is not None:
            where.append(Condition(path="source_kind", op="in", value=list(kinds)))
            where.append(Condition(path="source_name", op="eq", value=name))
    if node.template is not None:
        where.append(Condition(path="template", op="eq", value=node.template))
    if node.channel is not None:
        where.append(Condition(path="channel", op="eq", value=node.channel))
    return Performed(
        event=outcome_event(node.outcome), where=where, count=node.count, within=node.within
    )
