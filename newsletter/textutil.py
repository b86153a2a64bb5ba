"""Plain-text helpers shared by ingest, compose and render (HTML to text, whitespace)."""

from __future__ import annotations

import html
import re
import unicodedata

import lxml.html
from lxml import etree

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "table", "tr", "section", "article", "header", "footer", "figure", "figcaption",
    "hr", "dd", "dt",
}  # fmt: skip
_DROP_TAGS = {"script", "style", "noscript", "iframe", "object", "template", "svg", "head"}
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
#: Unicode UAX #9 explicit directional formatting characters: embeddings and overrides
#: (LRE, RLE, PDF, LRO, RLO: U+202A-U+202E) and isolates (LRI, RLI, FSI, PDI:
#: U+2066-U+2069). An unterminated one reverses or reorders the text after it (a feed's
#: U+202E shows "tnemucod" for "document"), so text from outside never keeps them. The
#: implicit marks LRM, RLM and ALM (U+200E, U+200F, U+061C) are kept: they only set the
#: direction of the neutral characters beside them (UAX #9 rules W1-N2), cannot reverse
#: anything, and right-to-left writing needs them (a number or Latin word at a line's end).
BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff" + BIDI_CONTROLS + "]"
)


_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


def collapse(text: str) -> str:
    """Collapse runs of white space to one space and strip the ends; non-breaking spaces
    (U+00A0, U+202F: French typography) are kept."""
    return _SPACES.sub(" ", text).strip(" ")


def strip_bidi_controls(text: str) -> str:
    """``text`` without the explicit directional formatting characters of
    :data:`BIDI_CONTROLS` (Unicode UAX #9 section 2); everything else is kept."""
    return _BIDI.sub("", text)


def strip_controls(text: str) -> str:
    """Remove control and invisible characters (CR and LF included) and normalise to NFC."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text.replace("\r", "").replace("\n", " ")))


def html_to_text(markup: str, *, paragraphs: bool = True) -> str:
    """Plain text of an HTML fragment: tags removed, entities decoded, scripts dropped.

    With ``paragraphs`` block elements become paragraph breaks (``"\\n\\n"``), otherwise the
    text is one collapsed line. Markup that still shows entities after one decoding (double
    escaping, common in feeds whose CDATA holds ``&#39;``) is decoded once more.
    """
    if not markup or not markup.strip():
        return ""
    if "<" not in markup and "&" not in markup:
        text = markup
    else:
        try:
            root = lxml.html.fragment_fromstring(markup, create_parent="div")
        except (etree.ParserError, ValueError):
            root = None
        if root is None:
            text = re.sub(r"<[^>]*>", " ", markup)
            text = html.unescape(text)
        else:
            parts: list[str] = []
            _walk(root, parts)
            text = "".join(parts)
    if _ENTITY.search(text):
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text.replace("\r", "")))
    if not paragraphs:
        return collapse(text)
    blocks = [collapse(block) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(block for block in blocks if block)


def _walk(element: etree._Element, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag.lower() in _DROP_TAGS:
        if element.tail:
            parts.append(element.tail)
        return
    block = tag.lower() in _BLOCK_TAGS
    if block:
        parts.append("\n\n")
    if element.text and isinstance(element.tag, str):
        parts.append(element.text)
    for child in element:
        _walk(child, parts)
    if block:
        parts.append("\n\n")
    if element.tail:
        parts.append(element.tail)


def plain_line(text: str) -> str:
    """One line of plain text from a value that may hold HTML, entities or line breaks."""
    return strip_controls(html_to_text(text, paragraphs=False))


def truncate_words(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with ``ellipsis``
    only where text was cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ellipsis))]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ellipsis


def slugify(label: str) -> str:
    """``"Économie & Finances"`` -> ``"economie-finances"``: ASCII, lower case, hyphens."""
    decomposed = unicodedata.normalize("NFKD", label)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")


def clean_line(text: str) -> str:
    """A single line of text: controls (CR, LF) removed and spaces collapsed."""
    return collapse(strip_controls(text))
