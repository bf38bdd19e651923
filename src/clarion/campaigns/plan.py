"""Planning a run: when each recipient of the snapshot is sent, and who does not fit.

Pure: from the snapshot (profile ids and their time zones), the occurrence, the
spec and the time the run starts, it gives every recipient a send time:

1. the scheduled time: the occurrence; with `local_time` the wall-clock time in
   the recipient's zone (the campaign's zone when the profile has none), and
   when that has already passed, the next day or a skip (`missed`); with waves,
   the occurrence plus the wave's offset (recipients are spread over the waves
   in a stable pseudo-random order, by mmh3 of the run and profile ids);
2. the planned time: with a rate cap, the scheduled time pushed back until a
   slot of `1 / per_second` is free (waves and zones never overlap), taken in
   the pseudo-random order; without one, recipients due at the same time go out
   in profile order;
3. a recipient whose planned time is more than `time_limit` after its scheduled
   time is skipped with reason `time_limit` and counted in the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import mmh3

from clarion.campaigns.schedule import Occurrence, localize, zone
from clarion.campaigns.spec import CampaignSpec
from clarion.clock import to_micros

TIME_LIMIT = "time_limit"
LOCAL_TIME_PASSED = "local_time_passed"
STOPPED = "stopped"


@dataclass(slots=True)
class Plan:
    """Recipients with their planned send times (µs, ascending), and who was skipped."""

    recipients: list[tuple[str, int]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def _order(run_id: str, profile_id: str) -> int:
    return mmh3.hash64(f"{run_id}:{profile_id}", signed=False)[0]


def _scheduled(
    spec: CampaignSpec,
    occurrence: Occurrence,
    profiles: Sequence[str],
    zones: Mapping[str, str],
    start_us: int,
    plan: Plan,
    run_id: str,
) -> list[tuple[int, int, str]]:
    """(scheduled µs, order, profile id) for every recipient that is not skipped."""
    out: list[tuple[int, int, str]] = []
    if occurrence.local_time and spec.schedule is not None:
        default = spec.schedule.timezone
        next_day = spec.schedule.missed == "next_day"
        cache: dict[str, tuple[int, int]] = {}
        for pid in profiles:
            name = zones.get(pid) or default
            if name not in cache:
                try:
                    tz = zone(name)
                except ValueError:
                    tz = zone(default)
                cache[name] = (
                    to_micros(localize(occurrence.wall, tz)),
                    to_micros(localize(occurrence.wall + timedelta(days=1), tz)),
                )
            today, tomorrow = cache[name]
            if today >= start_us:
                out.append((today, _order(run_id, pid), pid))
            elif next_day:
                out.append((tomorrow, _order(run_id, pid), pid))
            else:
                plan.skip(LOCAL_TIME_PASSED)
        return out
    base = max(to_micros(occurrence.fire_at), start_us)
    if spec.waves is None and not spec.throttle_rate:
        return [(base, 0, pid) for pid in profiles]  # all at once, in profile order
    ordered = sorted((_order(run_id, pid), pid) for pid in profiles)
    if spec.waves is None:
        return [(base, order, pid) for order, pid in ordered]
    step = int(spec.waves.interval.total_seconds() * 1_000_000)
    bounds, total = [], 0.0
    for fraction in spec.waves.fractions():
        total += fraction
        bounds.append(round(total * len(ordered)))
    wave = 0
    for index, (order, pid) in enumerate(ordered):
        while index >= bounds[wave]:
            wave += 1
        out.append((base + wave * step, order, pid))
    return out


def plan_run(
    spec: CampaignSpec,
    occurrence: Occurrence,
    profiles: Sequence[str],
    zones: Mapping[str, str],
    start_us: int,
    run_id: str,
) -> Plan:
    """Send times for a snapshot (see the module docstring)."""
    plan = Plan()
    scheduled = _scheduled(spec, occurrence, profiles, zones, start_us, plan, run_id)
    rate = spec.throttle_rate
    if rate:
        scheduled.sort()
    else:
        # Recipients due together go out in profile order: each queued chunk then
        # writes its profile-keyed index entries (outbox, outcome events) on a few
        # neighbouring pages, where the pseudo-random order wrote one page each.
        scheduled.sort(key=lambda s: (s[0], s[2]))
    limit = int(spec.time_limit.total_seconds() * 1_000_000)
    gap = 1_000_000 / rate if rate else 0.0
    slot = float("-inf")
    for due, _order_key, pid in scheduled:
        planned = max(float(due), slot + gap) if rate else float(due)
        if planned - due > limit:
            plan.skip(TIME_LIMIT)
            continue
        slot = planned
        plan.recipients.append((pid, int(planned)))
    return plan
