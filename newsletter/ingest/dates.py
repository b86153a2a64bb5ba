"""Publication dates as real feeds write them, read to aware UTC instants.

Pure functions, no I/O. :func:`read_date` reads one date string; it returns None for what
it cannot read (the caller then tries feedparser's own parse, then its policy for an
undatable entry). The forms:

- **RFC 822 / RFC 5322 section 3.3** ``[day ","] DD month YYYY hh:mm[:ss] [zone]``, read
  leniently as RFC 5322 section 4.3 ("obsolete syntax") allows: the space after the comma
  may be missing (``Fri,24 Nov 2023 18:28:36 -0000``), the day name is ignored whatever its
  language (``Mon``, ``Jeu``, ``Mo``), a two-digit year is 2000-2049 or 1950-1999, and
  day and month names may be English, French or German, with or without accents, full or
  abbreviated, with or without a dot (``déc.``, ``févr.``, ``juil.``, ``Dez``).
- **ISO 8601** ``YYYY-MM-DD[Thh:mm[:ss[.fff]]][zone]`` (also with a space for ``T``, and
  the basic form ``YYYYMMDDThhmmss``).
- ``YYYY/MM/DD [hh:mm[:ss]]`` and ``DD/MM/YYYY [hh:mm[:ss]]`` (day first, as French and
  most of the world write it; ``.`` or ``-`` also separate ``DD.MM.YYYY``), months and days
  with one or two digits; ``18h15`` is read as ``18:15``.

Zones: ``+hhmm``, ``+hh:mm``, ``+hh``; ``-0000`` is UTC (RFC 5322 section 3.3: the local
zone is unknown); ``Z``, ``UT``, ``UTC``, ``GMT`` +00:00; the RFC 822 section 5 North
American names ``EST`` -05:00, ``EDT`` -04:00, ``CST`` -06:00, ``CDT`` -05:00, ``MST``
-07:00, ``MDT`` -06:00, ``PST`` -08:00, ``PDT`` -07:00; and Europe's ``WET`` +00:00,
``WEST`` +01:00, ``CET`` +01:00, ``CEST`` +02:00, ``EET`` +02:00, ``EEST`` +03:00. Another
name (``BST``, ``IST``: ambiguous) makes the date unreadable here. A date without a zone is
wall time in the zone the caller gives (the source's, by default the newsletter's); a wall
time that a clock change skips or repeats is read as zoneinfo does (``fold=0``: the offset
before the change). A fraction of a second is dropped: feeds date to the second, and a
stored time stays the same whichever form a feed uses.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo

#: Zone names and their offsets from UTC in hours (RFC 822 section 5; Europe's names).
ZONE_OFFSETS: dict[str, int] = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
}  # fmt: skip

# Full month names (accents removed, lower case), English, French and German: a month is
# written as one of them or as a prefix of three letters or more that names one month.
_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("january", "janvier", "januar", "janner"),
    ("february", "fevrier", "februar"),
    ("march", "mars", "marz"),
    ("april", "avril"),
    ("may", "mai"),
    ("june", "juin", "juni"),
    ("july", "juillet", "juli"),
    ("august", "aout"),
    ("september", "septembre"),
    ("october", "octobre", "oktober"),
    ("november", "novembre"),
    ("december", "decembre", "dezember"),
)

_ZONE = r"(?P<zone>[+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,5})"
_TIME = r"(?P<hour>\d{1,2})[:hH](?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
# Between a date and its time: spaces, a comma, "T", or the words "à" / "at".
_JOIN = r"(?:\s*,?\s*(?:à|a|at)?\s*|T)"
_TAIL = rf"(?:{_JOIN}{_TIME})?\s*(?:\(?{_ZONE}\)?)?"

_RFC822 = re.compile(
    r"(?:(?P<dayname>[^\W\d_]+)\.?\s*,?\s*)?"
    r"(?P<day>\d{1,2})(?:er)?[\s-]+(?P<month>[^\W\d_]+)\.?[\s-]+(?P<year>\d{4}|\d{2})" + _TAIL
)
_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T\s]\s*(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{2,5})?",
    re.IGNORECASE,
)
_ISO_BASIC = re.compile(
    r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
    r"T(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?(?:[.,](?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_YEAR_FIRST = re.compile(
    r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})" + _TAIL
)  # fmt: skip
_DAY_FIRST = re.compile(
    r"(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})" + _TAIL
)
_FORMS = (_ISO, _ISO_BASIC, _RFC822, _YEAR_FIRST, _DAY_FIRST)


def read_date(text: str, zone: tzinfo) -> datetime | None:
    """The instant ``text`` names, as an aware UTC datetime, or None when it is not one of
    the forms of this module (see its docstring) or not a date of the calendar.

    ``zone`` is the time zone of a date written without one (the source's; usually a
    :class:`zoneinfo.ZoneInfo`). Never raises.
    """
    text = " ".join(text.split())
    if not text or len(text) > 100:
        return None
    for form in _FORMS:
        match = form.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        if form is _RFC822:
            month = month_number(parts["month"])
            if month is None:
                continue
        else:
            month = int(parts["month"])
        return _instant(parts, month, zone)
    return None


def month_number(name: str) -> int | None:
    """The month (1-12) an English, French or German month name writes, full or abbreviated
    to three letters or more, with or without accents or a final dot (``déc.`` 12, ``févr``
    2, ``juil.`` 7, ``Mär`` 3, ``Sept`` 9); None for anything else or a prefix that names two
    months (``jui``)."""
    key = strip_accents(name).lower().rstrip(".")
    if len(key) < 3:
        return None
    found = {
        number
        for number, names in enumerate(_MONTH_NAMES, start=1)
        if any(full.startswith(key) for full in names)
    }
    return found.pop() if len(found) == 1 else None


def zone_offset(name: str) -> timezone | None:
    """The fixed offset a zone writes: ``+hhmm``, ``+hh:mm``, ``+hh`` (``-0000`` is UTC), or a
    name of :data:`ZONE_OFFSETS` in any case; None for anything else (the offset's hours at
    most 23, its minutes at most 59)."""
    if name[0] in "+-":
        digits = name[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        sign = -1 if name[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    named = ZONE_OFFSETS.get(name.upper())
    return None if named is None else timezone(timedelta(hours=named))


def strip_accents(text: str) -> str:
    """``text`` without its combining marks (``déc`` -> ``dec``, ``août`` -> ``aout``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _instant(parts: dict[str, str | None], month: int, zone: tzinfo) -> datetime | None:
    year = int(parts["year"] or 0)
    if len(parts["year"] or "") == 2:  # RFC 5322 section 4.3
        year += 2000 if year < 50 else 1900
    zone_text = parts.get("zone")
    where: tzinfo | None = zone_offset(zone_text) if zone_text else zone
    if where is None:
        return None
    try:
        wall = datetime(
            year, month, int(parts["day"] or 0), int(parts.get("hour") or 0),
            int(parts.get("minute") or 0), int(parts.get("second") or 0),
        )  # fmt: skip
    except ValueError:
        return None
    return wall.replace(tzinfo=where).astimezone(UTC)
