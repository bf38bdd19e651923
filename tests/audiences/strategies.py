"""Hypothesis strategies: random audience definitions and the random data they run on.

Data and definitions draw their values from one pool per example, so that
conditions often meet equal, nearly equal and wrong-typed values: numbers that
are equal as doubles (1 and 1.0, 2**53 and 2**53 + 1), strings that look like
numbers, booleans beside 0 and 1, unicode, date strings valid and invalid, and
event times exactly on window edges.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from clarion.audiences import AddressState, EventView, ProfileView, SubscriptionGroup
from clarion.audiences.memory.values import MISSING, lookup
from clarion.clock import from_micros, to_micros
from clarion.model.consent import GroupDefault
from clarion.model.durations import parse_instant
from tests.audiences.data import Dataset

DAY = 86_400_000_000
HOUR = 3_600_000_000
NOWS = [
    to_micros(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),
    to_micros(datetime(2027, 2, 28, 23, 59, 59, 999_999, tzinfo=UTC)),
    to_micros(datetime(2028, 2, 28, 12, 0, tzinfo=UTC)),
    to_micros(datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
    to_micros(datetime(2028, 12, 31, 23, 30, tzinfo=UTC)),
]
SPANS = [30 * DAY, 7 * DAY, 2 * HOUR, 0, DAY, HOUR // 4, 365 * DAY]
EDGES = list(
    dict.fromkeys(sign * span + nudge for span in SPANS for sign in (-1, 1) for nudge in (0, 1, -1))
)
"""Offsets from `now` on window edges (Hypothesis favours the first: 30 days ago)."""

KEYS = ["a", "b", "n", "ключ", "x y", "0", "d", "bd"]
PATHS = [*KEYS, "o.a", "o.0", "o.d", "a.b", "missing", "o.o.a"]
PROPERTY_KEYS = ["total", "a", "d", "source_kind", "source_name", "template", "channel"]
EVENTS = ["Order Completed", "Signed Up", "message.delivered", "message.opened", "message.sent"]
EMAILS = ["a@x.se", "b@x.se", "c@x.se", "d@x.se"]
PHONES = ["+461", "+462", "+463"]
CHANNELS = ["email", "sms", "push"]
GROUP_NAMES = ["news", "promo", "alerts"]

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
NAMED_STRINGS = ["", "42", "4.2", "SE", "se", "é", "e\u0301", "😀", "Z", "a", "ab", "abc", "true"]
DATE_STRINGS = [
    "0001-01-01",
    "9999-12-31T23:59:59.999999-23:59",
    "1992-02-29",
    "2000-02-29",
    "1900-02-29",
    "2023-02-29",
    "2024-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-01-32",
    "2026-04-31",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:60:00Z",
    "2026-01-01T23:59:60Z",
    "2026-01-01T10:00:00+24:00",
    "2026-01-01T10:00:00+23:59",
    "2026-01-01T10:00:00-00:60",
    "2026-1-01",
    "2026-01-01 10:00:00Z",
    "2026-01-01T10:00:00.1234567Z",
    "2026-01-01T10:00Z",
    "\uff12\uff10\uff12\uff16-01-01",
    "2026-01-01T10:00:00z",
    "0000-01-01",
    " 2026-01-01",
    "2026-01-01\n",
]
INTEGERS = st.one_of(
    st.sampled_from([-1, 0, 1, 2, 41, 42, 100, 2**53, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1]),
    st.integers(-(2**63), 2**64 - 1),
)
FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 42.0, 0.1, 2.5, 1e308, -1e-308, 5e-324, 9007199254740992.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)


ZONES = ["Z", "", "+02:00", "-05:30", "+23:59", "-23:59", "+00:59"]


def format_instant(micros: int, digits: int | None, zone: str) -> str:
    """An instant in one accepted shape: a date (`digits` None) or a date-time with
    `digits` fraction digits (truncated) and `zone`."""
    moment = from_micros(micros)
    if digits is None:
        return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    shift = 0
    if zone not in ("", "Z"):
        shift = (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
    local = moment + timedelta(minutes=shift)
    base = f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local:%H:%M:%S}"
    fraction = f".{local.microsecond:06d}"[: digits + 1] if digits else ""
    return base + fraction + zone


def corrupt(text: str, how: int) -> str:
    """A string of an instant's shape that is not an instant (a day past the month's end,
    hour 24, minute 60, zone +24:00)."""
    if how == 0:
        month = int(text[5:7])
        bad_day = {2: 30 if int(text[:4]) % 4 == 0 else 29, 4: 31, 6: 31, 9: 31, 11: 31}
        return text[:8] + f"{bad_day.get(month, 32):02d}" + text[10:]
    if len(text) < 19:
        return text[:5] + "13" + text[7:]
    if how == 1:
        return text[:11] + "24" + text[13:]
    if how == 2:
        return text[:14] + "60" + text[16:]
    return text[:19] + "+24:00"


@st.composite
def _instants(draw: st.DrawFn, now: int) -> str:
    """A date or date-time string near `now` (often exactly on a window edge), a birthday
    near today's date in another year, a near miss (shaped like one, not a real instant)
    or a tricky one."""
    choice = draw(st.integers(0, 7))
    if choice == 0:
        return draw(st.sampled_from(DATE_STRINGS))
    if choice == 1:
        return draw(birthdays(now))
    offset = draw(
        st.one_of(
            st.sampled_from(EDGES),
            st.integers(-40 * DAY, 40 * DAY),
            st.integers(-500 * DAY, 500 * DAY),
        )
    )
    digits = draw(st.sampled_from([0, 3, None, 6, 1, 2, 4, 5]))
    text = format_instant(now + offset, digits, draw(st.sampled_from(ZONES)))
    return corrupt(text, draw(st.integers(0, 3))) if choice == 2 else text


def instant_neighbours(text: str) -> list[str]:
    """The same instant written otherwise, and instants a millisecond or a second away."""
    micros = parse_instant(text)
    if micros is None or not 2 * 366 * DAY - 62135596800_000_000 < micros < 253370764800_000_000:
        return []  # leave room to shift by a day within years 1 to 9999
    near = [format_instant(micros, digits, "Z") for digits in (None, 0, 2, 3, 5, 6)]
    near += [format_instant(micros, 6, "-05:30")]
    near += [format_instant(micros + step, 4, "Z") for step in (1000, -1000, 1_000_000)]
    return near


@functools.cache
def birthdays(now: int) -> st.SearchStrategy[str]:
    """Birthday strings for `now` (one strategy per `now`)."""
    return _birthdays(now)


@st.composite
def _birthdays(draw: st.DrawFn, now: int) -> str:
    """A date of an earlier year whose month and day fall near `now`'s (29 February too)."""
    today = from_micros(now).date()
    year = draw(st.sampled_from([1992, 1900, 2000, 1987, 2001, 1968]))
    nearby = today + timedelta(days=draw(st.integers(-3, 9)))
    month, day = draw(
        st.sampled_from([(nearby.month, nearby.day), (2, 29), (2, 29), (2, 28), (3, 1)])
    )
    if month == 2 and day == 29 and year % 4:
        year = 1992
    return f"{year:04d}-{month:02d}-{day:02d}" + draw(st.sampled_from(["", "T23:30:00-05:00"]))


@functools.cache
def instants(now: int) -> st.SearchStrategy[str]:
    """Date and date-time strings near `now` (one strategy per `now`: building them is slow)."""
    return _instants(now)


@functools.cache
def valid_instants(now: int) -> st.SearchStrategy[str]:
    """Only strings that are instants."""
    return instants(now).filter(lambda text: parse_instant(text) is not None)


@functools.cache
def scalars(now: int) -> st.SearchStrategy[Any]:
    """JSON scalars near `now`."""
    return _scalars(now)


@st.composite
def _scalars(draw: st.DrawFn, now: int) -> Any:
    """A JSON scalar: null, boolean, number, string (dates included)."""
    return draw(
        st.one_of(
            st.none(),
            st.booleans(),
            INTEGERS,
            FLOATS,
            st.sampled_from(NAMED_STRINGS),
            TEXT,
            instants(now),
        )
    )


@dataclass
class Pool:
    """The values an example's data and definitions share.

    `observed` maps `trait:<path>` and `prop:<path>` to the scalars the dataset
    holds there, so that conditions often meet the data (`at`).
    """

    now: int
    values: list[Any]
    observed: dict[str, list[Any]] = field(default_factory=dict)

    def at(self, where: str) -> Pool:
        """The pool for a condition on `where`: the values found there and their neighbours."""
        found = self.observed.get(where, [])
        if not found:
            return self
        return Pool(self.now, found + found + neighbours(found) + self.values, self.observed)

    def scalar(self) -> st.SearchStrategy[Any]:
        """Mostly a pooled value, sometimes a fresh one."""
        return self._strategies["scalar"]

    def json(self) -> st.SearchStrategy[Any]:
        """A trait or property value: mostly pooled scalars, sometimes arrays or objects."""
        return self._strategies["json"]

    @functools.cached_property
    def _strategies(self) -> dict[str, st.SearchStrategy[Any]]:
        pooled = st.sampled_from(self.values)
        scalar = st.one_of(pooled, pooled, pooled, scalars(self.now))
        json = st.one_of(
            scalar,
            scalar,
            scalar,
            st.lists(scalar, max_size=3),
            st.dictionaries(st.sampled_from(KEYS), scalar, max_size=2),
        )
        return {"scalar": scalar, "json": json}

    def typed(self, *types: type) -> st.SearchStrategy[Any]:
        """A non-null scalar of one of `types` (booleans only when asked)."""

        def fits(v: Any) -> bool:
            if isinstance(v, bool):
                return bool in types
            return isinstance(v, types)

        found = [v for v in self.values if fits(v)]
        fresh = []
        if str in types:
            fresh.append(st.one_of(TEXT, st.sampled_from(NAMED_STRINGS), instants(self.now)))
        if int in types:
            fresh.extend([INTEGERS, FLOATS])
        if bool in types:
            fresh.append(st.booleans())
        pooled = [st.sampled_from(found)] * 3 if found else []
        return st.one_of(*pooled, *fresh)


def neighbours(values: list[Any]) -> list[Any]:
    """Values just around the given ones: x ± 0.5, x ± 1, int/float twins, longer strings."""
    near: list[Any] = []
    for v in values:
        if isinstance(v, bool):
            near.append(not v)
        elif isinstance(v, int | float) and abs(v) < 2**60:
            near.extend([v + 0.5, v - 0.5, v + 1, v - 1, float(v)])
            if float(v).is_integer():
                near.append(int(v))
        elif isinstance(v, str):
            near.extend([v + "a", v[:-1], v + "\U0001f600", *instant_neighbours(v)])
    return near


def observe(dataset: Dataset) -> dict[str, list[Any]]:
    """The scalars a dataset holds at each trait path and event property path."""
    found: dict[str, list[Any]] = {}

    def add(where: str, value: Any) -> None:
        for v in value if isinstance(value, list) else [value]:
            if v is not None and not isinstance(v, list | dict):
                found.setdefault(where, []).append(v)

    for profile in dataset.profiles:
        for path in PATHS:
            add(f"trait:{path}", lookup(profile.traits, tuple(path.split("."))))
        for event in [*profile.events, *dataset.unstamped_events]:
            for path in [*PROPERTY_KEYS, "o.a"]:
                add(f"prop:{path}", lookup(event.properties, tuple(path.split("."))))
    for key, values in found.items():
        found[key] = [v for v in values if v is not MISSING]
    return found


def _value(pool: Pool, key: str) -> st.SearchStrategy[Any]:
    """Key `d` holds date strings (valid or not), `bd` birthdays; the others anything."""
    if key == "bd":
        return birthdays(pool.now)
    return instants(pool.now) if key == "d" else pool.json()


@st.composite
def documents(draw: st.DrawFn, pool: Pool, keys: list[str]) -> dict[str, Any]:
    """A traits or properties object with a few of `keys` and often a nested object `o`."""
    present = draw(st.lists(st.sampled_from([*keys, "o"]), min_size=1, max_size=5, unique=True))
    document = {key: draw(_value(pool, key)) for key in present}
    if "o" in document and draw(st.booleans()):
        inner = draw(st.lists(st.sampled_from([*KEYS, "o"]), max_size=3, unique=True))
        document["o"] = {key: draw(_value(pool, key)) for key in inner}
    return document


@st.composite
def events(draw: st.DrawFn, pool: Pool) -> EventView:
    """An event near `now`: mostly track calls, often on a window edge."""
    name = EVENTS[draw(st.integers(0, 2**16)) % len(EVENTS)]
    kind = draw(st.sampled_from(["track", "track", "track", "page"]))
    offset = draw(st.one_of(st.sampled_from(EDGES), st.integers(-400 * DAY, DAY)))
    properties = draw(documents(pool, PROPERTY_KEYS))
    if name.startswith("message.") and draw(st.booleans()):
        properties |= {
            "source_kind": draw(st.sampled_from(["campaign", "api", "journey", "canvas"])),
            "source_name": draw(st.sampled_from(["spring", "welcome"])),
            "template": draw(st.sampled_from(["t1", "t2"])),
            "channel": draw(st.sampled_from(["email", "sms"])),
        }
    return EventView(kind, name, pool.now + offset, properties)


@st.composite
def datasets(draw: st.DrawFn, pool: Pool) -> Dataset:
    """A few profiles with traits, identities, consent and events, and the rows beside them."""
    count = draw(st.integers(3, 6))
    emails = draw(st.permutations(EMAILS))
    phones = draw(st.permutations(PHONES))
    profiles = []
    for i in range(count):
        identities = [("user_id", f"u{i}")] if draw(st.booleans()) else []
        if i < len(emails) and draw(st.booleans()):
            identities.append(("email", emails[i]))
        if i < len(phones) and draw(st.booleans()):
            identities.append(("phone", phones[i]))
        subscriptions = draw(
            st.dictionaries(
                st.tuples(st.sampled_from(CHANNELS), st.sampled_from(["", *GROUP_NAMES, "ghost"])),
                st.sampled_from(["subscribed", "unsubscribed", "pending"]),
                max_size=3,
            )
        )
        profiles.append(
            ProfileView(
                f"p{i}",
                draw(documents(pool, KEYS)),
                identities,
                subscriptions,
                (),
                draw(st.lists(events(pool), min_size=i % 2, max_size=6)),
            )
        )
    groups = [
        SubscriptionGroup(name, channel, draw(st.sampled_from(list(GroupDefault))))
        for name, channel in zip(GROUP_NAMES, ["email", "email", "sms"], strict=True)
        if draw(st.booleans())
    ]
    addresses = [value for p in profiles for ns, value in p.identities if ns in ("email", "phone")]
    address_states = draw(
        st.lists(
            st.builds(
                AddressState,
                st.sampled_from(["email", "sms"]),
                st.sampled_from(["", *GROUP_NAMES]),
                st.sampled_from([*addresses, *addresses, "z@x.se", "+469"]),
                st.sampled_from(["subscribed", "unsubscribed"]),
            ),
            min_size=1 if addresses else 0,
            max_size=4,
        )
    )
    unstamped = draw(st.lists(events(pool), max_size=2))
    twin = ProfileView("q0", profiles[0].traits, (), {}, (), profiles[0].events)
    return Dataset(profiles, groups, address_states, unstamped, [twin])
