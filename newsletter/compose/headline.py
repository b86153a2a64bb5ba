"""One-line texts made of titles (the subject, the preheader): without pictographs, and cut
only where no quotation or bracket is open.

Many mail clients show a pictograph ("🔴") as an empty box, and a line cut inside « … »,
"…", (…) or […] misquotes: the quote must be whole or absent. Cuts fall between words and
end with "…".
"""

from __future__ import annotations

from newsletter.compose.kinds import without_pictographs
from newsletter.compose.stories import STOP_WORDS, fold
from newsletter.textutil import collapse, truncate_words

#: Opening marks and their closing marks; a straight double quote opens and closes itself.
PAIRS = {
    "«": "»", "“": "”", "„": "“", "‹": "›", "‘": "’", "(": ")", "[": "]", "{": "}", '"': '"',
}  # fmt: skip
#: Marks that close a quotation only when they are not an apostrophe (between two letters:
#: "l’EI", "It’s"); a straight single quote also opens one before a letter after a space.
_APOSTROPHES = "’'"
#: Punctuation that a cut line must not end with before its "…".
_TRAILING = " ,;:–—-·|/"
_SPACES = " \u00a0\u202f"


def clean(text: str) -> str:
    """``text`` on one line, without pictographs, spaces collapsed."""
    return collapse(without_pictographs(text))


def _marks(text: str) -> list[tuple[int, str]]:
    """For each space of ``text``, its index and the closing marks then open (innermost
    last): "" where no quotation or bracket is open. A mark that the text never closes
    ("les années '80", a « left open) opens nothing: it is the text's own slip, and reading
    it as a quotation would leave no place to cut."""
    ignored: set[int] = set()
    for _ in range(2):  # drop the openers never closed, then read again without them
        out: list[tuple[int, str]] = []
        stack: list[tuple[str, int]] = []
        for index, char in enumerate(text):
            if index in ignored:
                continue
            before = text[index - 1] if index else " "
            after = text[index + 1] if index + 1 < len(text) else " "
            apostrophe = char in _APOSTROPHES and before.isalnum() and after.isalnum()
            if stack and char == stack[-1][0] and not apostrophe:
                stack.pop()
            elif char == "'" and not apostrophe:
                if (before.isspace() or before in "([") and after.isalnum():
                    stack.append(("'", index))
            elif char in PAIRS:
                stack.append((PAIRS[char], index))
            elif char.isspace():
                out.append((index, "".join(mark for mark, _ in stack)))
        if not stack:
            return out
        ignored |= {index for _, index in stack}
    return out


def cut_points(text: str) -> list[int]:
    """Indices of the spaces of ``text`` where no quotation or bracket is open (an
    apostrophe opens nothing: "l’EI", "it's")."""
    return [index for index, open_marks in _marks(text) if not open_marks]


def clip(text: str, max_chars: int) -> str:
    """``text`` (cleaned) in at most ``max_chars`` characters: whole, else cut at the last
    space outside any quotation or bracket and ended with "…". When a quotation opens the
    text and runs past ``max_chars``, it is elided, not misquoted: cut between two of its
    words, "…" and its closing marks ("« Si une coalition contre l’EI devait… »"), as a
    newspaper shortens a quotation."""
    text = clean(text)
    if len(text) <= max_chars:
        return text
    for point in reversed(cut_points(text)):
        head = _head(text[:point])
        if head and len(head) + 1 <= max_chars:
            return head + "…"
    # French sets « » apart with a space inside ("« Si"): the closing mark gets one too.
    opening = text.find("«")
    inside = "\u00a0" if opening >= 0 and text[opening + 1 : opening + 2] in _SPACES else ""
    for point, open_marks in reversed(_marks(text)):
        head = _head(text[:point])
        closing = "".join((inside if mark == "»" else "") + mark for mark in reversed(open_marks))
        if head and len(head) + 1 + len(closing) <= max_chars:
            return head + "…" + closing
    return truncate_words(text, max_chars)


def _head(text: str) -> str:
    """``text`` before a cut: without trailing punctuation, nor a last word that leads
    nowhere alone ("de", "la", "the": a stop word), if other words remain."""
    head = text.rstrip(_TRAILING)
    while " " in head and fold(head.rsplit(" ", 1)[1]) in STOP_WORDS:
        head = head.rsplit(" ", 1)[0].rstrip(_TRAILING)
    return head


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
