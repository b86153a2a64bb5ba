"""One-line texts made of titles (the subject, the preheader): without pictographs, and cut
only where no quotation or bracket is open.

Many mail clients show a pictograph ("🔴") as an empty box, and a line cut inside « … »,
"…", (…) or […] misquotes: the quote must be whole or absent. Cuts fall between words and
end with "…".
"""

from __future__ import annotations

from newsletter.compose.kinds import without_pictographs
from newsletter.textutil import collapse, truncate_words

#: Opening marks and their closing marks; a straight double quote opens and closes itself.
PAIRS = {"«": "»", "“": "”", "„": "“", "‹": "›", "(": ")", "[": "]", "{": "}", '"': '"'}
#: Punctuation that a cut line must not end with before its "…".
_TRAILING = " ,;:–—-·|/"


def clean(text: str) -> str:
    """``text`` on one line, without pictographs, spaces collapsed."""
    return collapse(without_pictographs(text))


def cut_points(text: str) -> list[int]:
    """Indices of the spaces of ``text`` where no quotation or bracket is open."""
    points: list[int] = []
    stack: list[str] = []
    for index, char in enumerate(text):
        if stack and char == stack[-1]:
            stack.pop()
        elif char in PAIRS:
            stack.append(PAIRS[char])
        elif char in "»”›)]}" and not stack:
            continue  # a closing mark without its opening: the text's own slip
        elif char.isspace() and not stack:
            points.append(index)
    return points


def clip(text: str, max_chars: int) -> str:
    """``text`` (cleaned) in at most ``max_chars`` characters: whole, else cut at the last
    space outside any quotation or bracket and ended with "…". When every such cut leaves
    nothing, the words before the first quotation; as a last resort a plain word cut."""
    text = clean(text)
    if len(text) <= max_chars:
        return text
    for point in reversed(cut_points(text)):
        head = text[:point].rstrip(_TRAILING)
        if head and len(head) + 1 <= max_chars:
            return head + "…"
    return truncate_words(text, max_chars)


def join_whole(titles: list[str], max_chars: int, separator: str = " · ") -> str:
    """The ``titles`` (cleaned), in order, that fit whole in ``max_chars`` joined by
    ``separator`` (one that does not fit is skipped); when none fits, the first clipped
    (:func:`clip`)."""
    kept: list[str] = []
    for title in (clean(t) for t in titles):
        if not title:
            continue
        candidate = separator.join([*kept, title])
        if len(candidate) <= max_chars:  # a title too long is skipped, never cut
            kept.append(title)
    if kept:
        return separator.join(kept)
    first = next((t for t in titles if clean(t)), "")
    return clip(first, max_chars) if first else ""
