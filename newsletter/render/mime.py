"""A message prepared once per edition variant and personalised by substitution.

Quoted-printable (RFC 2045 section 6.7) is local: each static segment of a part is encoded
once, and each substituted value is encoded on its own and framed by soft line breaks
(``=\\r\\n``), so the decoded text is exact and no encoded line exceeds 76 characters. A
message then costs a few joins instead of an ``EmailMessage`` (about 6 ms) and a premailer
run (about 8 ms).
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.quoprimime import body_encode

from newsletter.providers.base import Content, Recipient

#: RFC 2045 section 6.7 rule 5: encoded lines are at most 76 characters.
QP_MAX_LINE = 76
SOFT_BREAK = b"=\r\n"


def qp_encode(text: str) -> bytes:
    """Quoted-printable of ``text`` as UTF-8 with CRLF line ends, lines <= 76 characters.

    Uses ``email.quoprimime.body_encode`` (a pure function of the ``email`` package, no
    message object): ``binascii.b2a_qp`` overruns 76 characters when it encodes white space
    at a line's end.
    """
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return body_encode(data.decode("latin-1"), maxlinelen=QP_MAX_LINE, eol="\r\n").encode("ascii")


def _leave_room(encoded: bytes) -> bytes:
    """Make the last line short enough to take a trailing soft break ``=``."""
    head, sep, last = encoded.rpartition(b"\r\n")
    if len(last) < QP_MAX_LINE:
        return encoded
    cut = QP_MAX_LINE - 1
    escape = last.rfind(b"=", max(0, cut - 2), cut)
    if escape != -1:
        cut = escape  # never split an "=XX" escape
    return head + sep + last[:cut] + SOFT_BREAK + last[cut:]


#: A value that quoted-printable leaves as it is (RFC 2045 section 6.7 rule 2: printable
#: ASCII other than "="; no white space, which rule 3 treats at a line's end): a URL, a
#: token, most addresses. Such a value is cut into lines of 75 characters and soft breaks.
_LITERAL = re.compile(r"[!-<>-~]*")
_LITERAL_LINE = QP_MAX_LINE - 1


def encode_value(text: str) -> bytes:
    """``text`` quoted-printable encoded to stand between two soft line breaks: its last
    line leaves room for the ``=`` of the soft break that follows. Printable ASCII without
    ``=`` or white space (the substituted URLs and tokens) is only cut into lines, without
    running the encoder; anything else goes through :func:`qp_encode`."""
    if _LITERAL.fullmatch(text):
        data = text.encode("ascii")
        if len(data) <= _LITERAL_LINE:
            return data
        return SOFT_BREAK.join(
            data[start : start + _LITERAL_LINE] for start in range(0, len(data), _LITERAL_LINE)
        )
    return _leave_room(qp_encode(text))


class QPTemplate:
    """A text with placeholders, quoted-printable encoded once.

    ``pattern`` matches placeholders; group 1 is the field name. ``escape`` is applied to
    each value before encoding (``html.escape`` for an HTML part).
    """

    def __init__(self, text: str, pattern: re.Pattern[str], escape: Callable[[str], str]) -> None:
        pieces = pattern.split(text)
        self.fields: list[str] = pieces[1::2]
        self._segments = [_leave_room(qp_encode(piece)) for piece in pieces[0::2]]
        self._escape = escape

    def render(self, values: Mapping[str, str]) -> bytes:
        """The encoded part with ``values`` substituted; raises ``KeyError`` for a missing
        field."""
        out: list[bytes] = []
        self.render_into(out, values)
        return b"".join(out)

    def render_into(self, out: list[bytes], values: Mapping[str, str]) -> None:
        """Append the pieces of :meth:`render` to ``out`` (one join for a whole message)."""
        cache: dict[str, bytes] = {}
        out.append(self._segments[0])
        for name, segment in zip(self.fields, self._segments[1:], strict=True):
            encoded = cache.get(name)
            if encoded is None:
                encoded = cache[name] = encode_value(self._escape(values[name]))
            out += (SOFT_BREAK, encoded, SOFT_BREAK, segment)


@dataclass(frozen=True)
class Personal:
    """One recipient's headers and substituted values (all already header-safe)."""

    to_line: str  # a complete "To: ..." header line, see headers.address_line
    message_id: str  # "<...@domain>"
    date: str  # RFC 5322 date
    list_unsubscribe: str  # "<https://...>" (and optionally ",\r\n <mailto:...>")
    values: Mapping[str, str]  # placeholder name -> value
    name: str = ""  # the display name of to_line, exact text ("" for none)

    def recipient(self) -> Recipient:
        """These values as the HTTP providers take them (List-Unsubscribe unfolded)."""
        return Recipient(self.name, unfold(self.list_unsubscribe), self.values)


_ENCODED_WORD = re.compile(r"=\?utf-8\?q\?([^?]*)\?=", re.IGNORECASE)
_Q_ESCAPE = re.compile(r"=([0-9A-Fa-f]{2})")


def unfold(value: str) -> str:
    """A header value on one line (RFC 5322 section 2.2.3: CRLF before white space is
    removed)."""
    return value.replace("\r\n", "")


def _decode_words(value: str) -> str:
    """The text of our own run of RFC 2047 "Q" encoded-words (``render.headers``): the
    words are adjacent once unfolded, and white space between encoded-words is not text
    (RFC 2047 section 6.2); each word carries its own spaces as ``_``."""
    data = b"".join(
        _Q_ESCAPE.sub(lambda m: chr(int(m[1], 16)), word.replace("_", " ")).encode("latin-1")
        for word in _ENCODED_WORD.findall(value)
    )
    return data.decode("utf-8")


def header_text(line: str) -> tuple[str, str]:
    """``(name, text)`` of a header line written by ``render.headers``: unfolded, encoded-
    words decoded exactly, without the ``email`` package (whose decoding of folded
    encoded-words can insert spaces)."""
    name, _, value = unfold(line).partition(":")
    value = value.strip()
    if value.lower().startswith("=?utf-8?q?"):
        return name, _decode_words(value)
    return name, value


def address_text(line: str) -> tuple[str, str]:
    """``(display name, address)`` of a ``From:``/``To:`` line of ``render.headers``."""
    _, value = header_text(line.rsplit("<", 1)[0] if "<" in line else line)
    if "<" not in line:
        return "", value
    address = line.rsplit("<", 1)[1].rstrip(">\r\n ")
    phrase = value.strip()
    if phrase.startswith('"') and phrase.endswith('"'):
        phrase = re.sub(r"\\(.)", r"\1", phrase[1:-1])
    return phrase, address


def content_of(
    static_headers: list[str], text: str | None, html_body: str | None, pattern: re.Pattern[str]
) -> Content:
    """The :class:`Content` the JSON APIs take for a message with these ``static_headers``
    (From, Subject, then extra headers such as List-Id and Feedback-ID), ``text`` and
    ``html_body`` with placeholders matching ``pattern``."""
    sender = ("", "")
    subject = ""
    extra: list[tuple[str, str]] = []
    for line in static_headers:
        name = line.partition(":")[0]
        if name.lower() == "from":
            sender = address_text(line)
        elif name.lower() == "subject":
            subject = header_text(line)[1]
        else:
            extra.append(header_text(line))
    return Content(sender[0], sender[1], subject, tuple(extra), text, html_body, pattern)


class PreparedMessage:
    """A multipart/alternative message (text then HTML, both quoted-printable UTF-8).

    ``static_headers`` are complete header lines shared by every recipient (From, Subject,
    List-Id, ...). ``text`` and ``html`` contain placeholders matching ``pattern``.
    """

    def __init__(
        self, static_headers: list[str], text: str, html_body: str, pattern: re.Pattern[str]
    ) -> None:
        self.boundary = f"=_nl_{secrets.token_hex(12)}"
        self._text = QPTemplate(text, pattern, lambda value: value)
        self._html = QPTemplate(html_body, pattern, lambda value: html.escape(value, quote=True))
        self.fields = sorted(set(self._text.fields) | set(self._html.fields))
        self._head = ("\r\n".join(static_headers) + "\r\n").encode("ascii")
        self._content_type = (
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
        ).encode("ascii")
        part = (
            'Content-Type: text/{}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        self._open_text = f"\r\n--{self.boundary}\r\n{part.format('plain')}".encode("ascii")
        self._open_html = f"\r\n--{self.boundary}\r\n{part.format('html')}".encode("ascii")
        self._close = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        #: The fields of this message for the JSON APIs (built once per variant).
        self.content = content_of(static_headers, text, html_body, pattern)

    def personalise(self, personal: Personal) -> bytes:
        """The complete message (RFC 5322 bytes, CRLF line ends) for one recipient."""
        headers = (
            f"Date: {personal.date}\r\n"
            f"Message-ID: {personal.message_id}\r\n"
            f"{personal.to_line}\r\n"
            f"List-Unsubscribe: {personal.list_unsubscribe}\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        ).encode("ascii")
        out = [
            self._head,
            headers,
            self._content_type,
            b"\r\nThis is a multipart message in MIME format.",
            self._open_text,
        ]
        self._text.render_into(out, personal.values)
        out.append(self._open_html)
        self._html.render_into(out, personal.values)
        out.append(self._close)
        return b"".join(out)
