"""Reading time of what the reader actually reads (headings, titles, summaries).

Rates are silent-reading words per minute. English non-fiction: 238 wpm, the mean of
Brysbaert (2019), "How many words do we read per minute? A review and meta-analysis of
reading rate", Journal of Memory and Language 109, 104047. Other languages scale that figure
by their rate relative to English in the International Reading Speed Texts study
(Trauzettel-Klosinski & Dietz 2012, "Standardized assessment of reading performance: the new
International Reading Speed Texts IReST", IOVS 53(9), table 3: English 228 wpm, French 195,
...), which is how Brysbaert (2019, section 4.4) compares languages whose words differ in
length. French: 238 x 195 / 228 = 204 wpm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ENGLISH_SILENT_WPM = 238.0
#: IReST mean reading rates (words per minute), used only as ratios to English.
IREST_WPM = {
    "ar": 138, "de": 179, "en": 228, "es": 218, "fi": 161, "fr": 195, "he": 187, "it": 188,
    "nl": 202, "pl": 166, "pt": 181, "ru": 184, "sl": 180, "sv": 199, "tr": 166,
}  # fmt: skip

_WORD = re.compile(r"\w+(?:[’'\-]\w+)*", re.UNICODE)


def words_per_minute(language: str | None, overrides: Mapping[str, float] | None = None) -> float:
    """Silent-reading rate for ``language`` (BCP 47 primary subtag), in words per minute.

    ``overrides`` (from configuration) win; an unknown language reads at the English rate.
    """
    primary = (language or "en").split("-")[0].lower()
    if overrides and primary in overrides:
        return float(overrides[primary])
    return ENGLISH_SILENT_WPM * IREST_WPM.get(primary, IREST_WPM["en"]) / IREST_WPM["en"]


def count_words(text: str) -> int:
    """Words in ``text``: runs of letters/digits, with inner apostrophes and hyphens kept
    (« aujourd’hui », « c'est-à-dire » count once; numbers count as words)."""
    return len(_WORD.findall(text))


def reading_seconds(
    text: str, language: str | None, overrides: Mapping[str, float] | None = None
) -> float:
    """Seconds to read ``text`` silently at the rate of ``language``."""
    return count_words(text) * 60.0 / words_per_minute(language, overrides)
