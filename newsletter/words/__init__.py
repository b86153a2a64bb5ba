"""Every word the product shows: one table per language (:mod:`.fr`, :mod:`.en`), one key
space, and the few functions that read them.

Keys are namespaced by who shows the words:

- ``edition.*``: the email's fixed words (its templates get them as ``labels``) and the
  weekly edition's default subject;
- ``section.<slug>``: section titles by category slug;
- ``date.*``: month and weekday names and the long date's pattern;
- ``readers.*``: the readers' pages (their templates get them as ``t``);
- ``editors.*``: the editors' pages (their templates get them as ``t``);
- ``signup.*``: the confirmation email;
- ``scheduler.*``: the scheduler's mail to the editors (in French today, whatever
  ``NEWSLETTER_LANGUAGE``: its callers ask for ``"fr"``).

Every entry is a :meth:`str.format` pattern (a literal brace is doubled); both tables have
the same keys with the same placeholders (a test holds them to it). French is the default:
a language tag other than ``en`` gets French.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from newsletter.words import en, fr

TABLES: dict[str, dict[str, str]] = {"fr": fr.WORDS, "en": en.WORDS}
#: The language of a tag we have no table for.
DEFAULT_LANGUAGE = "fr"
#: Scripts written right to left (for the document's ``dir``).
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})


def language_of(tag: str) -> str:
    """The supported language for a BCP 47 tag: its primary subtag if known, else French."""
    primary = tag.split("-")[0].lower()
    return primary if primary in TABLES else DEFAULT_LANGUAGE


def say(key: str, language: str, /, **values: object) -> str:
    """The words of ``key`` in ``language``, their placeholders filled from ``values``.
    Raises ``KeyError`` for an unknown key or a placeholder without a value."""
    return TABLES[language_of(language)][key].format(**values)


@functools.cache
def table(language: str, namespace: str) -> Mapping[str, str]:
    """The entries of ``namespace`` in ``language``, keyed without the namespace
    (``table("fr", "readers")["archive_title"]``): what templates get as ``t``."""
    prefix = namespace + "."
    words = TABLES[language_of(language)]
    return MappingProxyType(
        {key[len(prefix) :]: text for key, text in words.items() if key.startswith(prefix)}
    )


def message(namespace: str, detail: str, language: str, /, **values: object) -> str:
    """Message ``detail`` of ``namespace`` in ``language`` with its placeholders filled
    from ``values``; a ``detail`` that is not a key is returned as it is (words raised
    elsewhere, Starlette's own). Raises ``KeyError`` when a placeholder has no value."""
    text = table(language, namespace).get(detail)
    return detail if text is None else text.format(**values)


# --- the edition's words -------------------------------------------------------------------
def labels(language: str) -> Mapping[str, str]:
    """The edition's fixed words in ``language``."""
    return table(language, "edition")


def section_titles(language: str) -> Mapping[str, str]:
    """Section titles by category slug in ``language``."""
    return table(language, "section")


def section_title(slug: str | None, language: str, label: str | None = None) -> str:
    """The title of section ``slug``: ours when we know it, else the source's own category
    ``label`` (with its accents: "Amériques"), else the slug capitalised."""
    slug = slug or "autres"
    known = section_titles(language).get(slug)
    if known:
        return known
    if label and label.strip():
        return label.strip()[:1].upper() + label.strip()[1:]
    return slug.replace("-", " ").capitalize()


def long_date(day: date, language: str) -> str:
    """``mercredi 25 mars 2026`` (fr) / ``Wednesday 25 March 2026`` (en)."""
    return say(
        "date.long", language,
        weekday=say(f"date.weekday.{day.isoweekday()}", language),
        day=say("date.first_day", language) if day.day == 1 else day.day,
        month=say(f"date.month.{day.month}", language),
        year=day.year,
    )  # fmt: skip


def weekday_names(language: str) -> list[str]:
    """Monday ... Sunday in ``language`` (index 0 = Monday, as ``date.weekday()``)."""
    return [say(f"date.weekday.{n}", language) for n in range(1, 8)]


# --- the use case's English on a page ------------------------------------------------------
#: The use case's English messages (``UsageError``, the render's warnings) with their key
#: phrases in French, longest first; ids, dates and provider answers stay as they are.
_FRENCH = (
    ("is not in the edition", "n’est pas dans l’édition"),
    ("is not pinned", "n’est pas épinglé"),
    ("is not excluded", "n’est pas exclu"),
    ("this item cannot move further", "cet article ne peut pas aller plus loin"),
    ("is not a candidate of", "n’est pas candidat à l’édition du"),
    ("(published outside its window or already in another edition)",
     "(publié hors de sa fenêtre ou déjà dans une autre édition)"),
    ("the test was not accepted", "le test n’a pas été accepté"),
    ("invalid address", "adresse invalide"),
    ("must be on one line", "doit tenir sur une ligne"),
    ("must have at most", "doit avoir au plus"),
    ("bytes; Gmail clips messages over about", "octets\u202f; Gmail coupe les messages au-delà"
     " d’environ"),
    ("the HTML is", "le HTML fait"),
    ("characters", "caractères"),
    ("bytes", "octets"),
    ("no edition for", "pas d’édition pour le"),
)  # fmt: skip


def usage_message(message: str, language: str) -> str:
    """An English message of the use case (``UsageError``, a render warning) for a page in
    ``language``: in French its key phrases are translated (ids, dates and provider
    answers stay as they are); the first letter is a capital in both."""
    if language_of(language) == "fr":
        for english, french in _FRENCH:
            message = message.replace(english, french)
    return message[:1].upper() + message[1:]
