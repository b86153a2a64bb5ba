"""Header values written by hand, byte-exact (RFC 5322 folding, RFC 2047 encoded-words).

Python's ``email`` package folds long headers into encoded-words in ways that some versions
get wrong (lost spaces between words, glued encoded-words), and it must never touch
``List-Unsubscribe``. Here every non-ASCII value becomes a run of complete "Q" encoded-words
that carry their own spaces, one per folded line, so decoding gives back the exact text.
"""

from __future__ import annotations

import re

from newsletter.textutil import collapse, strip_controls

#: RFC 5322 section 2.1.1: lines SHOULD be at most 78 characters (998 is the hard limit).
MAX_LINE = 78
#: RFC 2047 section 2: an encoded-word is at most 75 characters.
MAX_ENCODED_WORD = 75
# RFC 2047 section 5 (3): characters that may stand unencoded in a "Q" word in a phrase.
_Q_SAFE = re.compile(rb"[A-Za-z0-9!*+\-/]")
_PREFIX = "=?utf-8?q?"
_SUFFIX = "?="
_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*")


def clean(value: str) -> str:
    """A header-safe single line: CR, LF and other controls removed, spaces collapsed.

    Every subscriber- or feed-supplied value goes through this before it reaches a header,
    so no value can inject a header line.
    """
    return collapse(strip_controls(value))


def _q_encode_char(char: str) -> str:
    if char == " ":
        return "_"
    data = char.encode("utf-8")
    if _Q_SAFE.fullmatch(data):
        return char
    return "".join(f"={byte:02X}" for byte in data)


def encoded_words(text: str, first_line_room: int) -> list[str]:
    """``text`` as RFC 2047 "Q" encoded-words (UTF-8), never splitting a character.

    The first word fits in ``first_line_room`` characters (room left after the header name),
    the others in a folded line of their own (leading space + word <= 78).
    """
    words: list[str] = []
    current = ""
    room = min(MAX_ENCODED_WORD, first_line_room) - len(_PREFIX) - len(_SUFFIX)
    for char in text:
        encoded = _q_encode_char(char)
        if current and len(current) + len(encoded) > room:
            words.append(f"{_PREFIX}{current}{_SUFFIX}")
            current = ""
            room = min(MAX_ENCODED_WORD, MAX_LINE - 1) - len(_PREFIX) - len(_SUFFIX)
        current += encoded
    if current or not words:
        words.append(f"{_PREFIX}{current}{_SUFFIX}")
    return words


def _fold_ascii(name: str, text: str) -> str:
    """Fold plain ASCII text at spaces so that lines stay within 78 characters."""
    lines: list[str] = []
    line = f"{name}:"
    for word in text.split(" "):
        if len(line) + 1 + len(word) > MAX_LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line = f"{line} {word}"
    lines.append(line)
    return "\r\n".join(lines)


def header_line(name: str, value: str) -> str:
    """A complete ``Name: value`` header (no trailing CRLF), folded with CRLF + space.

    Plain printable ASCII stays readable; anything else becomes encoded-words. Decoding with
    any RFC 2047 decoder gives back ``clean(value)`` exactly.
    """
    text = clean(value)
    if text.isascii() and "=?" not in text and all(len(w) <= MAX_LINE - 2 for w in text.split(" ")):
        return _fold_ascii(name, text)
    words = encoded_words(text, MAX_LINE - len(name) - 2)
    return f"{name}: " + "\r\n ".join(words)


def address_line(name: str, display_name: str | None, address: str) -> str:
    """A ``From:``/``To:`` header for ``address`` with an optional display name.

    The display name is quoted when ASCII (RFC 5322 quoted-string) and encoded-words
    otherwise; the address itself must be ASCII (raises ``ValueError`` otherwise).
    """
    address = clean(address)
    if not address.isascii() or any(c in address for c in '<>" ,;'):
        raise ValueError(f"cannot put {address!r} in a header")
    display = clean(display_name or "")
    if not display:
        return f"{name}: {address}"
    if display.isascii():
        if _ATEXT_PHRASE.fullmatch(display):
            phrase = display
        else:
            phrase = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        line = f"{name}: {phrase} <{address}>"
        if len(line) <= MAX_LINE:
            return line
        return f"{name}: {phrase}\r\n <{address}>"
    words = encoded_words(display, MAX_LINE - len(name) - 2)
    return f"{name}: " + "\r\n ".join(words) + f"\r\n <{address}>"
