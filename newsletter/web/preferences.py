"""The preferences form: read what a reader posted into a :class:`PreferenceChange`.

Every field is checked before anything is saved: one bad value refuses the whole form
(:class:`PreferencesInvalid`, whose ``key`` names the message among the ``readers.*`` words
of :mod:`newsletter.words`). Unchecked checkboxes send nothing, so ``topics`` is read as
none when absent from the page's own form (``form=preferences``); a field absent
otherwise is left as it is, and a form with none of the fields is refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum

from newsletter.store.models import Frequency, MessageFormat
from newsletter.store.preferences import KEEP, PreferenceChange
from newsletter.timeutil import UnknownTimeZone, get_zone, zone_names

#: The longest pause a reader may choose (days after today).
MAX_PAUSE_DAYS = 366
#: The width of the ``subscribers.timezone`` column.
MAX_ZONE_CHARS = 64


#: The fields of the form; ``form=preferences`` marks the page's own form, whose unchecked
#: topic boxes (sent as nothing) mean "no topic".
FIELDS = frozenset({"form", "topics", "frequency", "weekday", "paused_until", "format", "timezone"})


class PreferencesInvalid(ValueError):
    """A posted value that cannot be saved; ``key`` names its message in the page texts and
    ``field`` the form field."""

    def __init__(self, field: str, key: str) -> None:
        super().__init__(f"{field}: {key}")
        self.field, self.key = field, key


@functools.cache
def time_zones() -> list[str]:
    """IANA zone names a reader may choose, sorted: ``Area/City`` names plus ``UTC`` (the
    legacy aliases such as ``EST5EDT`` and the ``posix/``/``right/`` copies are left out)."""
    names = {
        name
        for name in zone_names()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))
    }
    return sorted(names | {"UTC"})


def _choice(form: dict[str, list[str]], name: str, choices: type[StrEnum], key: str) -> object:
    """The form's ``name`` as one of ``choices``; :data:`KEEP` when absent. Raises
    :class:`PreferencesInvalid` with the word-table ``key`` for any other value."""
    raw = _one(form, name)
    if raw is None:
        return KEEP
    if raw not in {choice.value for choice in choices}:
        raise PreferencesInvalid(name, key)
    return choices(raw)


def _one(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name) or []
    if len(values) > 1:
        raise PreferencesInvalid(name, "bad_repeated")
    return values[0].strip() if values else None


def parse_preferences(
    form: dict[str, list[str]], *, known_topics: Sequence[str], today: date
) -> PreferenceChange:
    """The change a posted form asks for. ``form`` maps field names to their values (as
    ``FormData.getlist`` gives them); ``known_topics`` are the sections a reader may pick
    (others are dropped); ``today`` is the newsletter's local date.

    Fields: ``topics`` (repeated; absent: none when ``form=preferences``, the page's own
    form, else unchanged), ``frequency`` (``daily``/``weekly``), ``weekday``
    (``0``-``6``, 0 = Monday; required for weekly), ``paused_until`` (``YYYY-MM-DD`` after
    ``today`` and at most :data:`MAX_PAUSE_DAYS` later; empty: no pause), ``format``
    (``html``/``text``), ``timezone`` (an IANA name checked with zoneinfo; empty: the
    newsletter's). Raises :class:`PreferencesInvalid` for the first bad field.
    """
    if not FIELDS & form.keys():
        raise PreferencesInvalid("form", "bad_form")
    topics: object = KEEP
    if "topics" in form or _one(form, "form") == "preferences":
        known = set(known_topics)
        chosen = form.get("topics", [])
        if any(t not in known for t in chosen):  # one bad value saves nothing (README)
            raise PreferencesInvalid("topics", "bad_topic")
        topics = list(dict.fromkeys(chosen))

    frequency = _choice(form, "frequency", Frequency, "bad_frequency")

    weekday: object = KEEP
    raw = _one(form, "weekday")
    if raw is not None and raw != "":
        if not re.fullmatch(r"[0-6]", raw):
            raise PreferencesInvalid("weekday", "bad_weekday")
        weekday = int(raw)
    if frequency == Frequency.WEEKLY and weekday is KEEP:
        raise PreferencesInvalid("weekday", "bad_weekday")
    if frequency == Frequency.DAILY:
        weekday = None

    paused_until: object = KEEP
    raw = _one(form, "paused_until")
    if raw is not None:
        paused_until = None
        if raw:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                raise PreferencesInvalid("paused_until", "bad_date")
            try:
                paused_until = date.fromisoformat(raw)
            except ValueError:
                raise PreferencesInvalid("paused_until", "bad_date") from None
            if paused_until <= today:
                raise PreferencesInvalid("paused_until", "date_past")
            if paused_until > today + timedelta(days=MAX_PAUSE_DAYS):
                raise PreferencesInvalid("paused_until", "date_far")

    message_format = _choice(form, "format", MessageFormat, "bad_format")

    timezone: object = KEEP
    raw = _one(form, "timezone")
    if raw is not None:
        timezone = raw or None
        if raw:
            # IANA names are ASCII letters, digits and "/_+-" (tz-link.html, "Names of
            # timezones"); anything else never reaches the file system.
            if len(raw) > MAX_ZONE_CHARS or not re.fullmatch(r"[A-Za-z0-9/_+-]+", raw):
                raise PreferencesInvalid("timezone", "bad_timezone")
            try:
                get_zone(raw)
            except (UnknownTimeZone, OSError):
                raise PreferencesInvalid("timezone", "bad_timezone") from None

    return PreferenceChange(
        topics=topics, frequency=frequency, weekday=weekday, paused_until=paused_until,
        format=message_format, timezone=timezone,
    )  # fmt: skip
