"""The rule for an editor's subject and preheader, shared by the command line, the editors'
pages and :meth:`newsletter.editions.drafts.Drafts.decide`: one line, a bounded length.

Limits: a subject of at most 200 characters (mail clients show 40 to 90; RFC 5322 section
2.1.1 asks for header lines under 998 characters, folding included), a preheader of at most
300 (clients show about 100). A line break or NUL in a header value would end the header
(RFC 5322 section 2.2), so neither is allowed.
"""

from __future__ import annotations

from newsletter.words import Phrase

#: Longest subject and preheader an editor may set, in characters.
TEXT_LIMITS = {"subject": 200, "preheader": 300}


def text_problem(name: str, value: str | None) -> Phrase | None:
    """Why ``value`` cannot be the edition's ``name`` (``"subject"`` or ``"preheader"``),
    in English with its key (``problems.<name>_too_long``, ``problems.<name>_one_line``),
    or None when it can (None itself: nothing set)."""
    if value is None:
        return None
    limit = TEXT_LIMITS[name]
    if len(value) > limit:
        return Phrase(f"problems.{name}_too_long", limit=limit)
    if any(c in value for c in "\r\n\x00\x0b\x0c\x85\u2028\u2029"):
        return Phrase(f"problems.{name}_one_line")
    return None
