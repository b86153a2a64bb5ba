"""Local dates and edition windows across clock changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest

from newsletter.timeutil import UnknownTimeZone, edition_window, get_zone, tzdata_version


@pytest.mark.parametrize(
    ("zone", "first", "days"),
    [
        ("Africa/Casablanca", date(2026, 2, 13), 4),  # Ramadan: +01 -> +00
        ("Africa/Casablanca", date(2026, 3, 20), 4),  # after Ramadan: +00 -> +01
        ("Europe/Paris", date(2026, 3, 28), 3),  # spring forward
        ("Europe/Paris", date(2026, 10, 24), 3),  # fall back
        ("America/New_York", date(2026, 3, 7), 3),
    ],
)
def test_consecutive_windows_meet_exactly(zone: str, first: date, days: int) -> None:
    tz = get_zone(zone)
    windows = [edition_window(first + timedelta(days=n), time(7, 0), tz) for n in range(days)]
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end == start
    lengths = [round((end - start).total_seconds() / 3600) for start, end in windows]
    assert set(lengths) <= {23, 24, 25} and set(lengths) != {24}  # the change is absorbed


def test_window_end_is_the_local_send_time_and_lookback_reaches_back() -> None:
    tz = get_zone("Africa/Casablanca")
    _start, end = edition_window(date(2026, 3, 25), time(7, 0), tz)
    assert end == datetime(2026, 3, 25, 6, 0, tzinfo=UTC)  # +01 after Ramadan 2026
    assert edition_window(date(2026, 3, 25), time(7, 0), tz, hours=48)[0] == end - timedelta(
        hours=48
    )


def test_zones_come_from_the_tzdata_package() -> None:
    assert tzdata_version().startswith("20")
    with pytest.raises(UnknownTimeZone):
        get_zone("Mars/Olympus")
    with pytest.raises(UnknownTimeZone):
        get_zone("../../etc/passwd")
