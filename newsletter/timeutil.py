"""Time zones and local dates.

Zones are loaded from the ``tzdata`` package first and from the operating system's copy only
when ``tzdata`` lacks the zone: the OS copy can be stale (Morocco moved to permanent UTC+0 on
2026-09-20; an older database still applies +01 and would send an hour off).
"""

from __future__ import annotations

import functools
import importlib.resources
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    """Raised when a time zone name is not in the IANA database."""


#: Files of a zone directory that are not zones: the host's own setting (``localtime``),
#: zic's template of POSIX rules (``posixrules``) and the "local time unknown" zone
#: (``Factory``, tz-link.html); ``posix/`` and ``right/`` are copies of the whole database
#: (``right/`` counting leap seconds, which no clock here does).
PSEUDO_ZONES = frozenset({"Factory", "localtime", "posixrules"})
PSEUDO_PREFIXES = ("posix/", "right/")


@functools.cache
def zone_names() -> frozenset[str]:
    """The time zone names accepted anywhere (settings, preferences, imports): the IANA
    names the ``tzdata`` package lists (its ``zones`` file; the system's
    ``zoneinfo.available_timezones()`` when the package is missing) without
    :data:`PSEUDO_ZONES` and the ``posix/``/``right/`` copies; ``UTC`` always."""
    try:
        listed = set(
            importlib.resources.files("tzdata").joinpath("zones").read_text("utf-8").split()
        )
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - tzdata is a dependency
        listed = set(zoneinfo.available_timezones())
    names = {n for n in listed if n not in PSEUDO_ZONES and not n.startswith(PSEUDO_PREFIXES)}
    return frozenset(names | {"UTC"})


@functools.cache
def get_zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name`` (e.g. ``"Africa/Casablanca"``).

    Only names of :func:`zone_names` (no ``localtime``, ``Factory``, ``posix/...``).
    Prefers the ``tzdata`` package's data over the system's. Raises :class:`UnknownTimeZone`
    for any other name.
    """
    if not name or ".." in name or name.startswith("/") or name not in zone_names():
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
