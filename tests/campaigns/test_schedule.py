"""Schedules and run plans, pure: recurrences in wall-clock time, DST weekends of
Europe/Stockholm and America/New_York, a zone at UTC+14, waves, rate and time limit."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clarion.campaigns.plan import LOCAL_TIME_PASSED, TIME_LIMIT, plan_run
from clarion.campaigns.schedule import Schedule, next_occurrence, occurrence_of
from clarion.campaigns.spec import campaign_problems, parse_campaign
from clarion.clock import from_micros, to_micros

STOCKHOLM, NEW_YORK = ZoneInfo("Europe/Stockholm"), ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def fires(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    out, anchor = [], after
    for _ in range(count):
        found = next_occurrence(schedule, after, anchor)
        assert found is not None
        out.append(found.fire_at)
        after = found.fire_at
    return out


@pytest.mark.parametrize(
    ("zone", "spring", "fall"),
    [
        ("Europe/Stockholm", datetime(2026, 3, 29), datetime(2026, 10, 25)),
        ("America/New_York", datetime(2026, 3, 8), datetime(2026, 11, 1)),
    ],
)
def test_daily_0230_on_dst_weekends_moves_forward_or_takes_the_first(
    zone: str, spring: datetime, fall: datetime
) -> None:
    tz = ZoneInfo(zone)
    daily = Schedule(every="daily", time="02:30", timezone=zone)
    # Spring forward: 02:30 does not exist; it moves forward by the gap (03:30).
    got = fires(daily, (spring - timedelta(days=1)).replace(hour=12, tzinfo=tz), 3)
    local = [t.astimezone(tz) for t in got]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (spring.day, 3, 30),
        (spring.day + 1, 2, 30),
        (spring.day + 2, 2, 30),
    ]
    # Fall back: 02:30 happens twice (in New York 01:30); the first one is taken, once.
    hour = 2 if zone == "Europe/Stockholm" else 1
    ambiguous = Schedule(every="daily", time=f"0{hour}:30", timezone=zone)
    got = fires(ambiguous, (fall - timedelta(days=1)).replace(hour=12, tzinfo=tz), 2)
    first = got[0].astimezone(tz)
    assert (first.day, first.hour, first.fold) == (fall.day, hour, 0)
    assert first.utcoffset() == (fall - timedelta(days=1)).replace(tzinfo=tz).utcoffset()
    assert got[1] - got[0] == timedelta(hours=25)  # the next day, not the repeat


def test_weekly_rrule_keeps_09_00_local_across_the_dst_change() -> None:
    schedule = Schedule(
        rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", timezone="Europe/Stockholm"
    )
    got = fires(schedule, utc(2026, 3, 18), 3)
    assert got == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)]


def test_cron_monthly_every_and_end_dates() -> None:
    cron = Schedule(cron="0 9 1 * *", timezone="America/New_York", end="2026-03-01")
    assert fires(cron, utc(2025, 12, 15), 2) == [utc(2026, 1, 1, 14), utc(2026, 2, 1, 14)]
    assert next_occurrence(cron, utc(2026, 2, 1, 14), utc(2025, 12, 15)) == occurrence_of(
        cron, datetime(2026, 3, 1, 9)
    )
    last_day = Schedule(every="monthly", day=-1, time="18:00", timezone="UTC", end="2026-03-31")
    assert fires(last_day, utc(2026, 1, 20), 2) == [utc(2026, 1, 31, 18), utc(2026, 2, 28, 18)]
    assert next_occurrence(last_day, utc(2026, 2, 28, 18), utc(2026, 1, 20)) == occurrence_of(
        last_day, datetime(2026, 3, 31, 18)
    )
    assert next_occurrence(last_day, utc(2026, 3, 31, 18), utc(2026, 1, 20)) is None
    start = Schedule(every="daily", time="07:00", timezone="UTC", start="2026-05-01")
    assert fires(start, utc(2026, 1, 1), 1) == [utc(2026, 5, 1, 7)]


def test_a_local_time_run_starts_when_utc_plus_14_reaches_the_wall_time() -> None:
    schedule = Schedule(at="2026-12-07T09:00:00", timezone="Europe/Stockholm", local_time=True)
    found = next_occurrence(schedule, utc(2026, 12, 1), utc(2026, 12, 1))
    assert found is not None and found.local_time
    assert found.fire_at == utc(2026, 12, 6, 19)
    assert found.fire_at.astimezone(KIRITIMATI).replace(tzinfo=None) == datetime(2026, 12, 7, 9)


def local_spec(**schedule: object) -> object:
    return parse_campaign(
        {
            "name": "digest",
            "audience": "subscribers",
            "template": "t",
            "schedule": {
                "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
                "timezone": "Europe/Stockholm",
                "local_time": True,
                **schedule,
            },
        }
    )


@pytest.mark.parametrize(
    ("wall", "zone", "expected_utc"),
    [
        # Monday after Stockholm's spring forward: 09:00 CEST is 07:00 UTC.
        (datetime(2026, 3, 30, 9), "Europe/Stockholm", utc(2026, 3, 30, 7)),
        (datetime(2026, 3, 23, 9), "Europe/Stockholm", utc(2026, 3, 23, 8)),
        # New York springs forward two weeks earlier.
        (datetime(2026, 3, 9, 9), "America/New_York", utc(2026, 3, 9, 13)),
        (datetime(2026, 3, 2, 9), "America/New_York", utc(2026, 3, 2, 14)),
        (datetime(2026, 11, 2, 9), "America/New_York", utc(2026, 11, 2, 14)),
        (datetime(2026, 3, 9, 9), "Pacific/Kiritimati", utc(2026, 3, 8, 19)),
        # A time that does not exist locally moves forward (02:30 -> 03:30).
        (datetime(2026, 3, 29, 2, 30), "Europe/Stockholm", utc(2026, 3, 29, 1, 30)),
        (datetime(2026, 3, 8, 2, 30), "America/New_York", utc(2026, 3, 8, 7, 30)),
        # An ambiguous one takes the first occurrence.
        (datetime(2026, 10, 25, 2, 30), "Europe/Stockholm", utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 11, 1, 1, 30), "America/New_York", utc(2026, 11, 1, 5, 30)),
    ],
)
def test_local_time_plan_sends_at_the_wall_time_in_each_zone(
    wall: datetime, zone: str, expected_utc: datetime
) -> None:
    spec = local_spec()
    occurrence = occurrence_of(spec.schedule, wall)  # type: ignore[attr-defined]
    plan = plan_run(spec, occurrence, ["p"], {"p": zone}, to_micros(occurrence.fire_at), "r")  # type: ignore[arg-type]
    assert [(pid, from_micros(due)) for pid, due in plan.recipients] == [("p", expected_utc)]


def test_without_a_zone_the_campaigns_is_used_and_passed_hours_go_next_day_or_skip() -> None:
    wall = datetime(2026, 12, 7, 9)
    zones = {"ny": "America/New_York", "kiri": "Pacific/Kiritimati", "bad": "Not/AZone"}
    profiles = ["ny", "kiri", "none", "bad"]
    # Activated at 10:00 UTC on the day: Kiritimati and Stockholm are past 09:00.
    start = to_micros(utc(2026, 12, 7, 10))
    spec = local_spec()
    plan = plan_run(spec, occurrence_of(spec.schedule, wall), profiles, zones, start, "r")  # type: ignore[arg-type, attr-defined]
    due = {pid: from_micros(t) for pid, t in plan.recipients}
    assert due == {
        "ny": utc(2026, 12, 7, 14),
        "kiri": utc(2026, 12, 7, 19),  # the next day, 09:00 in Kiritimati
        "none": utc(2026, 12, 8, 8),  # the campaign's zone, the next day
        "bad": utc(2026, 12, 8, 8),
    }
    skipping = local_spec(missed="skip")
    plan = plan_run(skipping, occurrence_of(skipping.schedule, wall), profiles, zones, start, "r")  # type: ignore[arg-type, attr-defined]
    assert [pid for pid, _ in plan.recipients] == ["ny"]
    assert plan.skipped == {LOCAL_TIME_PASSED: 3}


def test_waves_split_the_audience_by_share_and_never_overlap() -> None:
    spec = parse_campaign(
        {
            "name": "w",
            "audience": "a",
            "template": "t",
            "waves": {"count": 3, "interval": "30m", "shares": [20, 30, 50]},
        }
    )
    start = utc(2026, 12, 7, 8)
    occurrence = occurrence_of(None, start.replace(tzinfo=None))
    profiles = [f"p{i}" for i in range(1000)]
    plan = plan_run(spec, occurrence, profiles, {}, to_micros(start), "run-1")
    waves = sorted({due for _, due in plan.recipients})
    assert [from_micros(t) for t in waves] == [start + timedelta(minutes=30 * k) for k in range(3)]
    sizes = [sum(1 for _, due in plan.recipients if due == t) for t in waves]
    assert sizes == [200, 300, 500]
    again = plan_run(spec, occurrence, profiles, {}, to_micros(start), "run-1")
    assert again.recipients == plan.recipients  # stable: a resumed run plans the same


def test_rate_paces_the_run_and_what_misses_the_time_limit_is_skipped() -> None:
    spec = parse_campaign(
        {
            "name": "r",
            "audience": "a",
            "template": "t",
            "rate": {"per_second": 2},
            "time_limit": "1m",
        }
    )
    start = utc(2026, 12, 7, 8)
    occurrence = occurrence_of(None, start.replace(tzinfo=None))
    plan = plan_run(spec, occurrence, [f"p{i}" for i in range(200)], {}, to_micros(start), "x")
    times = [from_micros(due) for _, due in plan.recipients]
    assert len(times) == 121  # 0 s, 0.5 s, ..., 60 s
    assert times[0] == start and times[-1] == start + timedelta(seconds=60)
    assert all(b - a == timedelta(milliseconds=500) for a, b in itertools.pairwise(times))
    assert plan.skipped == {TIME_LIMIT: 79}


def test_recipients_due_together_go_in_profile_order_and_paced_ones_shuffled() -> None:
    start = utc(2026, 12, 7, 8)
    occurrence = occurrence_of(None, start.replace(tzinfo=None))
    profiles = [f"p{i:04d}" for i in range(300)]
    waves = parse_campaign(
        {
            "name": "w",
            "audience": "a",
            "template": "t",
            "waves": {"count": 2, "interval": "30m"},
        }
    )
    plan = plan_run(waves, occurrence, profiles, {}, to_micros(start), "run-1")
    by_wave = [
        [pid for pid, due in plan.recipients if due == t]
        for t in sorted({due for _, due in plan.recipients})
    ]
    assert [len(w) for w in by_wave] == [150, 150]
    assert all(w == sorted(w) for w in by_wave)  # each wave in profile order ...
    assert by_wave[0] != profiles[:150]  # ... of a pseudo-random half
    paced = parse_campaign(
        {"name": "r", "audience": "a", "template": "t", "rate": {"per_second": 50}}
    )
    order = [
        pid
        for pid, _ in plan_run(paced, occurrence, profiles, {}, to_micros(start), "x").recipients
    ]
    assert sorted(order) == profiles and order != profiles  # who goes first is not by id


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"schedule": {"at": "next monday"}}, "schedule.at"),
        ({"schedule": {"cron": "61 * * * *"}}, "schedule.cron"),
        ({"schedule": {"rrule": "FREQ=SOMETIMES"}}, "schedule.rrule"),
        (
            {"schedule": {"at": "2026-12-07T09:00:00", "timezone": "Mars/Olympus"}},
            "schedule.timezone",
        ),
        ({"schedule": {"every": "weekly", "time": "09:00"}}, "schedule"),
        ({"waves": {"count": 11, "interval": "30m"}}, "waves.count"),
        ({"waves": {"count": 2, "interval": "30m", "shares": [50, 40]}}, "waves"),
        ({"rate": {"per_second": 0}}, "rate.per_second"),
        ({"time_limit": "9d"}, ""),
        ({"audience": []}, ""),
        ({"category": "spam"}, "category"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_documents_name_the_field(change: dict[str, object], path: str) -> None:
    doc = {"kind": "campaign", "name": "x", "audience": "a", "template": "t", **change}
    parsed, problems = campaign_problems(doc)
    assert parsed is None and problems
    assert problems[0].path == path, problems
