"""An article's language: its own tag, else its feed's, else detection (py3langid).

Feed tags are sometimes wrong (a scraper that labels French articles "en", as the
regenerated TelQuel and Jeune Afrique feeds do), so a confident detection on enough text
overrides a feed's tag; an article's own tag is always trusted.
"""

from __future__ import annotations

import functools
import re

import py3langid.langid as langid

#: Detection below this probability is ignored; above OVERRIDE it beats a feed's tag.
MIN_CONFIDENCE = 0.5
OVERRIDE_CONFIDENCE = 0.95
MIN_WORDS = 8
#: Detector labels that name a variety of a language we know by its ISO 639-1 code.
_ALIASES = {"arz": "ar", "ary": "ar", "nb": "no", "nn": "no"}


@functools.cache
def _identifier() -> langid.LanguageIdentifier:
    return langid.LanguageIdentifier.from_modelpath(
        langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True
    )


def detect(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, probability) of ``text``, or None for too little text.

    Varieties are summed into their language (Moroccan and Egyptian Arabic count as Arabic).
    """
    if len(re.findall(r"\w+", text)) < MIN_WORDS:
        return None
    totals: dict[str, float] = {}
    for label, probability in _identifier().rank(text)[:10]:
        code = _ALIASES.get(label, label)
        totals[code] = totals.get(code, 0.0) + float(probability)
    code = max(totals, key=totals.__getitem__)
    return code, totals[code]


def resolve_language(own: str | None, feed: str | None, text: str) -> str | None:
    """The language to record for an article (a lower-case primary subtag) or None."""
    if own:
        return own
    guess = detect(text)
    if feed:
        if guess and guess[1] >= OVERRIDE_CONFIDENCE and guess[0] != feed:
            return guess[0]
        return feed
    if guess and guess[1] >= MIN_CONFIDENCE:
        return guess[0]
    return None
