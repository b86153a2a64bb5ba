"""The word tables: one per language, the same keys and placeholders, and their look-ups."""

from __future__ import annotations

import string
from datetime import date

import pytest

from newsletter import words


def fields(text: str) -> list[str]:
    """The placeholders of a format pattern (raises ValueError for a stray brace)."""
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_every_key_is_in_both_languages_with_the_same_placeholders() -> None:
    french, english = words.TABLES["fr"], words.TABLES["en"]
    assert french.keys() == english.keys()
    for key, text in french.items():
        assert key.split(".")[0] and "." in key, key
        assert text.strip() and english[key].strip(), key
        assert fields(text) == fields(english[key]), key


def test_every_entry_is_a_format_pattern_that_formats() -> None:
    for table in words.TABLES.values():
        for key, text in table.items():
            assert text.format(**dict.fromkeys(fields(text), "x")), key


@pytest.mark.parametrize("tag", ["de", "fr-CA", "", "zz-Latn"])
def test_an_unknown_language_gets_french(tag: str) -> None:
    assert words.language_of(tag) == "fr"
    assert words.say("readers.archive_title", tag) == "Archives"


def test_a_regional_english_tag_gets_english() -> None:
    assert words.language_of("en-GB") == "en"
    assert words.table("en-GB", "readers")["archive_title"] == "Archive"


def test_a_namespace_s_table_is_keyed_without_its_namespace() -> None:
    readers = words.table("fr", "readers")
    assert readers["link_invalid"] == words.say("readers.link_invalid", "fr")
    assert not any("." in key for key in readers)
    assert "archive_title" not in words.table("fr", "editors")


def test_a_message_that_is_not_a_key_is_returned_as_it_is() -> None:
    assert words.message("editors", "no_edition", "en", date="1 May") == "No edition for 1 May."
    assert words.message("readers", "Missing boundary", "fr") == "Missing boundary"
    with pytest.raises(KeyError):
        words.message("editors", "no_edition", "en")


def test_long_dates() -> None:
    assert words.long_date(date(2026, 3, 25), "fr") == "mercredi 25 mars 2026"
    assert words.long_date(date(2026, 3, 1), "fr") == "dimanche 1er mars 2026"
    assert words.long_date(date(2026, 3, 1), "en") == "Sunday 1 March 2026"
    assert words.weekday_names("en")[0] == "Monday"


def test_a_phrase_reads_as_english_and_is_said_in_a_page_s_language() -> None:
    import pickle

    from newsletter.errors import UsageError

    problem = UsageError(words.Phrase("problems.not_pinned", article=7))
    assert str(problem) == "article #7 is not pinned"  # the command line's words
    assert words.usage_message(problem, "fr") == "Article #7 n’est pas épinglé"
    assert words.usage_message(problem, "en") == "Article #7 is not pinned"
    copy = pickle.loads(pickle.dumps(problem.args[0]))
    assert (copy, copy.key, copy.values) == ("article #7 is not pinned", "problems.not_pinned",
                                             {"article": 7})  # fmt: skip
    plain = "the test was not accepted: 550 refused"  # English no use case keys yet
    assert words.usage_message(plain, "fr") == "Le test n’a pas été accepté: 550 refused"
