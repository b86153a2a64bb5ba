"""Time zones and local dates.

Zones are loaded from the ``tzdata`` package first and from the operating system's copy only
when ``tzdata`` lacks the zone: the OS copy can be stale (Morocco moved to permanent UTC+0 on
2026-09-20; an older database still applies +01 and would send an hour off).
"""

from __future__ import annotations

import functools
import importlib.resources
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    """Raised when a time zone name is not in the IANA database."""


@functools.cache
def get_zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name`` (e.g. ``"Africa/Casablanca"``).

    Prefers the ``tzdata`` package's data over the system's. Raises :class:`UnknownTimeZone`
    for a name that neither knows.
    """
    if not name or ".." in name or name.startswith("/"):
        raise UnknownTimeZone(f"unknown time zone {name!r}")
    try:
        resource = importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
        with resource.open("rb") as handle:
            return ZoneInfo.from_file(handle, key=name)
    except (FileNotFoundError, IsADirectoryError, ModuleNotFoundError, ValueError):
        pass
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(f"unknown time zone {name!r}") from exc


def tzdata_version() -> str:
    """Version of the IANA database shipped by the ``tzdata`` package (e.g. ``"2026a"``)."""
    try:
        return (
            importlib.resources.files("tzdata")
            .joinpath("zoneinfo", "tzdata.zi")
            .open(encoding="utf-8")
            .readline()
            .removeprefix("# version")
            .strip()
        )
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - tzdata is a dependency
        return "unknown"


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def local_today(zone: ZoneInfo, now: datetime | None = None) -> date:
    """Today's date in ``zone`` (``now`` defaults to the current UTC time)."""
    return (now or utcnow()).astimezone(zone).date()


def local_datetime(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of wall-clock time ``at`` on ``day`` in ``zone``.

    A wall time inside a spring-forward gap resolves to the instant after the gap and one in
    a fall-back overlap to its first occurrence (PEP 495, ``fold=0``).
    """
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    # Round-trip through UTC: a time in a gap comes back shifted, which is what we want.
    return aware.astimezone(UTC)


def edition_window(
    day: date, send_time: time, zone: ZoneInfo, hours: float | None = None
) -> tuple[datetime, datetime]:
    """The edition's candidate window ``[start, end)`` as aware UTC datetimes.

    ``end`` is ``send_time`` on ``day`` in ``zone``; ``start`` is the send time of the day
    before, so that consecutive editions' windows meet exactly: usually 24 hours, 23 or 25
    across a clock change (an article published in the changed hour belongs to exactly one
    edition). ``hours`` instead reaches back that many hours (the lookback of a thin day).
    """
    end = local_datetime(day, send_time, zone)
    if hours is not None:
        return end - timedelta(hours=hours), end
    return local_datetime(day - timedelta(days=1), send_time, zone), end
