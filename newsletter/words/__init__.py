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
- ``problems.*``: what a use case refuses or warns about (see :class:`Phrase`);
- ``scheduler.*``: the scheduler's mail to the editors, whatever ``NEWSLETTER_LANGUAGE``
  today: the draft-ready notice and the alerts' subjects in French (its callers ask for
  ``"fr"``), the alerts themselves (``scheduler.alert.*``, also logged) in English.

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


# --- the use cases' problems -----------------------------------------------------------
class Phrase(str):
    """Words of the tables said in English, as the command line prints them and the logs
    keep them, that carry their ``key`` and ``values`` so that a page says them in its own
    language (:func:`usage_message`). A use case raises ``UsageError(Phrase(...))`` or
    returns one as a warning: everything that reads it as a string reads the English."""

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, /, **values: object) -> Phrase:
        phrase = super().__new__(cls, say(key, "en", **values))
        phrase.key, phrase.values = key, values
        return phrase

    def __reduce__(self) -> tuple[object, ...]:
        return _phrase, (self.key, self.values)

    def said(self, language: str) -> str:
        """These words in ``language``."""
        return say(self.key, language, **self.values)


def _phrase(key: str, values: dict[str, object]) -> Phrase:
    return Phrase(key, **values)


#: Problems still raised as plain English (a provider's refusal of a test, the address
#: validator's words): their phrases are replaced by the page's language ones.
_PHRASES_IN_ENGLISH = ("problems.test_not_accepted", "problems.invalid_address")


def usage_message(problem: object, language: str) -> str:
    """A use case's problem (a ``UsageError``, its message or a render warning) for a page
    in ``language``, with a capital first letter: a :class:`Phrase` in that language; plain
    English with its known phrases replaced (ids, dates and provider answers stay)."""
    if isinstance(problem, BaseException):
        problem = problem.args[0] if problem.args else str(problem)
    if isinstance(problem, Phrase):
        message = problem.said(language)
    else:
        message = str(problem)
        for key in _PHRASES_IN_ENGLISH:
            message = message.replace(say(key, "en"), say(key, language))
    return message[:1].upper() + message[1:]
