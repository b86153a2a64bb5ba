"""Text direction of an item: ``dir`` for the HTML of the email and the archive.

An item in a right-to-left language (Arabic, Hebrew, Persian, Urdu ...) shown in a
left-to-right edition needs ``dir="rtl"`` on its elements, or its punctuation and numbers
land on the wrong side (Unicode UAX #9, "The Bidirectional Algorithm", and the W3C's
"Structural markup and right-to-left text in HTML"). The language, when the article says
it, decides; otherwise the script most of the item's letters are written in stands for its
language (an Arabic title starting with "COP29" is still Arabic, where the first strong
character of UAX #9 rule P2 would say left to right), written out because Outlook and
some webmail ignore ``dir="auto"``; text with no letter, or as many of each, gets
``dir="auto"`` (the reader's browser then applies rules P2 and P3).
"""

from __future__ import annotations

import unicodedata

#: Primary language subtags (BCP 47) written right to left (CLDR's character order).
RTL_LANGUAGES = frozenset({
    "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku-arab", "ps", "sd", "syr", "ug",
    "ur", "yi",
})  # fmt: skip


def language_direction(language: str | None) -> str | None:
    """``"rtl"`` for a right-to-left language tag, ``"ltr"`` for another known tag, None
    when there is no tag (``"ar-MA"`` and ``"AR"`` are Arabic; ``"ku-Arab"`` is)."""
    if not language or not language.strip():
        return None
    tag = language.strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    if primary in RTL_LANGUAGES or tag in RTL_LANGUAGES or tag.startswith("ku-arab"):
        return "rtl"
    return "ltr"


def first_strong(text: str) -> str | None:
    """``"rtl"`` or ``"ltr"`` after the first strong character of ``text`` (bidirectional
    class R or AL, or L: UAX #9 rule P2), or None when it has none."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def script_direction(*texts: str) -> str | None:
    """``"rtl"`` when most strong characters of ``texts`` are right-to-left (bidirectional
    class R or AL), ``"ltr"`` when most are left-to-right (L), None when there is none or
    as many of each."""
    right = left = 0
    for text in texts:
        for char in text or "":
            kind = unicodedata.bidirectional(char)
            if kind in ("R", "AL"):
                right += 1
            elif kind == "L":
                left += 1
    if right == left:
        return None
    return "rtl" if right > left else "ltr"


def item_direction(language: str | None, *texts: str) -> str:
    """The ``dir`` of an item's elements: from ``language`` when known, else from the
    script of most letters of ``texts`` (:func:`script_direction`), else ``"auto"``."""
    return language_direction(language) or script_direction(*texts) or "auto"
