"""The daily trigger with a controlled clock across the real transitions of 2024-2027:
Europe/Paris and America/New_York (spring-forward gaps, fall-back overlaps) and
Africa/Casablanca (Ramadan's negative DST, and the move to permanent UTC+0 on 2026-09-20).
One run per local day, at the configured wall time (or just after a gap), and the same
times in ``newsletter schedule --json``."""

from __future__ import annotations

import itertools
import json
import os
import pickle
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from newsletter.config.settings import load_settings
from newsletter.scheduler.timing import LocalDailyTrigger, Timing, planned_runs
from newsletter.timeutil import get_zone, tzdata_version
from tests.conftest import run_cli

FIRST, LAST = date(2024, 1, 1), date(2027, 12, 31)

#: (zone, local send time): the default hour, and hours inside each zone's gaps and overlaps.
CASES = [
    ("Europe/Paris", time(7, 0)),
    ("Europe/Paris", time(2, 30)),  # in the March gap and the October overlap
    ("America/New_York", time(7, 0)),
    ("America/New_York", time(1, 30)),  # in the November overlap
    ("America/New_York", time(2, 30)),  # in the March gap
    ("Africa/Casablanca", time(7, 0)),
    ("Africa/Casablanca", time(2, 30)),  # Ramadan: overlap at its start, gap at its end
]

#: Days whose UTC offset changes, as the installed tzdata says (checked below).
TRANSITIONS = {
    "Europe/Paris": [date(2024, 3, 31), date(2024, 10, 27), date(2025, 3, 30),
                     date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25),
                     date(2027, 3, 28), date(2027, 10, 31)],
    "America/New_York": [date(2024, 3, 10), date(2024, 11, 3), date(2025, 3, 9),
                         date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1),
                         date(2027, 3, 14), date(2027, 11, 7)],
    "Africa/Casablanca": [date(2024, 3, 10), date(2024, 4, 14), date(2025, 2, 23),
                          date(2025, 4, 6), date(2026, 2, 15), date(2026, 3, 22),
                          date(2026, 9, 20)],
}  # fmt: skip


def fires(trigger: object, start: datetime, end: datetime) -> list[datetime]:
    """Drive ``trigger`` as APScheduler does: after each run, ask for the next one, the
    clock standing at the run time (a controlled clock, no waiting)."""
    out: list[datetime] = []
    previous = None
    now = start.astimezone(UTC)
    while True:
        fire = trigger.get_next_fire_time(previous, now)  # type: ignore[attr-defined]
        # Aware datetimes of one zone compare and add by wall clock (fold ignored): go
        # through UTC, as APScheduler's own clock (datetime.now(utc)) does.
        if fire is None or fire.astimezone(UTC) > end.astimezone(UTC):
            return out
        out.append(fire)
        previous, now = fire, fire.astimezone(UTC) + timedelta(seconds=1)


def offset_changes(zone_name: str) -> list[date]:
    zone = get_zone(zone_name)
    changes, day, before = [], FIRST, None
    while day <= LAST:
        offset = datetime.combine(day, time(12)).replace(tzinfo=zone).utcoffset()
        if before is not None and offset != before:
            changes.append(day)
        before, day = offset, day + timedelta(days=1)
    return changes


def test_the_installed_tzdata_has_the_transitions_tested_here() -> None:
    assert tzdata_version() >= "2025b", "Morocco's 2026 change needs tzdata 2025b or newer"
    for zone_name, days in TRANSITIONS.items():
        assert offset_changes(zone_name) == days, zone_name
    casablanca = get_zone("Africa/Casablanca")
    after = datetime(2027, 6, 1, 7, tzinfo=casablanca)
    assert after.utcoffset() == timedelta(0), "permanent UTC+0 from 2026-09-20"


@pytest.mark.parametrize(("zone_name", "at"), CASES)
def test_one_run_per_local_day_at_the_wall_time_across_2024_to_2027(
    zone_name: str, at: time
) -> None:
    zone = get_zone(zone_name)
    trigger = LocalDailyTrigger(zone_name, at)
    start = datetime.combine(FIRST, time(0), tzinfo=zone)
    end = datetime.combine(LAST, time(23, 59), tzinfo=zone)
    runs = fires(trigger, start, end)
    per_day = Counter(run.astimezone(zone).date() for run in runs)
    expected_days = (LAST - FIRST).days + 1
    assert len(runs) == expected_days and set(per_day.values()) == {1}
    assert min(per_day) == FIRST and max(per_day) == LAST
    for run in runs:
        local = run.astimezone(zone)
        wall = datetime.combine(local.date(), at)
        if local.replace(tzinfo=None) != wall:  # only in a gap: the instant after it
            assert local.date() in TRANSITIONS[zone_name]
            assert local.replace(tzinfo=None) - wall == timedelta(hours=1)
        # a repeated wall time runs at its first occurrence (PEP 495 fold=0)
        assert run.astimezone(UTC) == wall.replace(tzinfo=zone).astimezone(UTC)
    for earlier, later in itertools.pairwise(runs):  # elapsed time, through UTC
        assert timedelta(hours=23) <= later.astimezone(UTC) - earlier.astimezone(UTC)
        assert later.astimezone(UTC) - earlier.astimezone(UTC) <= timedelta(hours=25)


def test_apscheduler_crontrigger_runs_twice_in_a_repeated_hour() -> None:
    """The reason for LocalDailyTrigger: the real CronTrigger of the installed APScheduler,
    driven the same way, fires twice on fall-back days. (If this starts failing, APScheduler
    fixed it; the own trigger stays correct either way.)"""
    doubled = {}
    for zone_name, at in CASES:
        zone = get_zone(zone_name)
        cron = CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)
        start = datetime.combine(FIRST, time(0), tzinfo=zone)
        end = datetime.combine(LAST, time(23, 59), tzinfo=zone)
        counts = Counter(run.astimezone(zone).date() for run in fires(cron, start, end))
        doubled[(zone_name, at)] = sorted(day for day, n in counts.items() if n > 1)
    assert doubled[("Europe/Paris", time(2, 30))] == [
        date(2024, 10, 27),
        date(2025, 10, 26),
        date(2026, 10, 25),
        date(2027, 10, 31),
    ]
    assert date(2026, 11, 1) in doubled[("America/New_York", time(1, 30))]
    assert date(2026, 2, 15) in doubled[("Africa/Casablanca", time(2, 30))]


def test_casablanca_sends_at_seven_local_before_and_after_the_2026_change() -> None:
    trigger = LocalDailyTrigger("Africa/Casablanca", time(7, 0))
    assert trigger.fire_time(date(2026, 9, 19)) == datetime(2026, 9, 19, 6, 0, tzinfo=UTC)
    assert trigger.fire_time(date(2026, 9, 20)) == datetime(2026, 9, 20, 7, 0, tzinfo=UTC)
    assert trigger.fire_time(date(2026, 9, 21)) == datetime(2026, 9, 21, 7, 0, tzinfo=UTC)


def test_the_compose_run_is_the_window_before_the_send_and_belongs_to_its_day() -> None:
    settings = load_settings(timezone="Europe/Paris", send_time="02:30",
                             editors_window_minutes=60)  # fmt: skip
    timing = Timing.from_settings(settings)
    zone = settings.zone
    start = datetime.combine(FIRST, time(0), tzinfo=zone)
    end = datetime.combine(LAST, time(23, 59), tzinfo=zone)
    runs = fires(timing.compose, start, end)
    days = Counter(timing.compose.day_of(run) for run in runs)
    assert set(days.values()) == {1} and len(days) == (LAST - FIRST).days + 1
    for run in runs:
        day = timing.compose.day_of(run)
        assert timing.send.fire_time(day) - run == timedelta(minutes=60)
        assert timing.send.day_of(run + timedelta(minutes=60)) == day


def test_a_start_within_the_grace_runs_todays_send_and_later_waits_for_tomorrow() -> None:
    trigger = LocalDailyTrigger("Africa/Casablanca", time(7, 0), lookback_seconds=3 * 3600)
    today = trigger.fire_time(date(2026, 11, 30))
    late = today + timedelta(minutes=10)
    assert trigger.get_next_fire_time(None, late) == today  # run at once, once
    after = trigger.get_next_fire_time(today, late)
    assert after == trigger.fire_time(date(2026, 12, 1))
    too_late = today + timedelta(hours=3, minutes=1)
    assert trigger.get_next_fire_time(None, too_late) == trigger.fire_time(date(2026, 12, 1))


def test_a_three_day_outage_leaves_one_coalesced_run_not_a_backlog() -> None:
    """APScheduler lists the missed run times from the stored one up to now and runs only
    the last with ``coalesce``: with this trigger that is today's, once."""
    trigger = LocalDailyTrigger("Europe/Paris", time(7, 0), lookback_seconds=3 * 3600)
    stored = trigger.fire_time(date(2026, 10, 23))  # the last run before the outage
    now = trigger.fire_time(date(2026, 10, 26)) + timedelta(minutes=5)
    missed, run = [], trigger.get_next_fire_time(stored, now)
    while run is not None and run <= now:
        missed.append(run)
        run = trigger.get_next_fire_time(run, now)
    assert [m.astimezone(UTC).date() for m in missed] == [
        date(2026, 10, 24),
        date(2026, 10, 25),
        date(2026, 10, 26),
    ]
    assert missed[-1] == trigger.fire_time(date(2026, 10, 26))  # coalesced: today only


def test_the_trigger_survives_the_job_store_pickle() -> None:
    trigger = LocalDailyTrigger("Africa/Casablanca", time(7, 0), offset_seconds=3600,
                                lookback_seconds=60)  # fmt: skip
    copy = pickle.loads(pickle.dumps(trigger))
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
    assert repr(copy) == repr(trigger)


def test_schedule_json_lists_compose_and_send_runs_from_the_scheduler_code(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "NEWSLETTER_TIMEZONE": "Europe/Paris", "NEWSLETTER_SEND_TIME": "02:30",
           "NEWSLETTER_EDITORS_WINDOW_MINUTES": "45"}  # fmt: skip
    result = run_cli(
        "schedule", "--json", "--from", "2026-03-28T00:00", "--days", "3", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [set(r) for r in runs] == [{"job", "local", "utc"}] * 6
    assert [r["job"] for r in runs] == ["compose", "send"] * 3
    assert runs[3] == {  # the send of the spring-forward day, just after the gap
        "job": "send",
        "local": "2026-03-29T03:30:00+02:00",
        "utc": "2026-03-29T01:30:00Z",
    }
    assert runs[2]["local"] == "2026-03-29T01:45:00+01:00"  # 45 minutes before, in UTC
    settings = load_settings(timezone="Europe/Paris", send_time="02:30",
                             editors_window_minutes=45)  # fmt: skip
    start = datetime(2026, 3, 28, tzinfo=get_zone("Europe/Paris"))
    assert planned_runs(settings, start, 3) == runs
    for bad in (["--from", "yesterday"], ["--days", "0"]):
        refused = run_cli("schedule", "--json", *bad, cwd=tmp_path, env=env)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
