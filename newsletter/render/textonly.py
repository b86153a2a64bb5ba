"""A text/plain-only message prepared once per edition variant, for readers who chose the
text format on their preferences page.

The same static headers as the multipart message (From, Subject, List-Id, Feedback-ID), the
same per-recipient headers (Date, Message-ID, To, List-Unsubscribe and RFC 8058's
List-Unsubscribe-Post) and the same text part, quoted-printable encoded once
(:class:`~newsletter.render.mime.QPTemplate`); only the body is a single ``text/plain``
part (RFC 2045/2046) instead of ``multipart/alternative``.
"""

from __future__ import annotations

import re

from newsletter.render.mime import Personal, QPTemplate, content_of


class PreparedTextMessage:
    """A single-part ``text/plain; charset="utf-8"`` quoted-printable message.

    ``static_headers``: complete header lines shared by every recipient; ``text`` contains
    placeholders matching ``pattern`` (group 1: the field name), substituted unescaped.
    """

    def __init__(self, static_headers: list[str], text: str, pattern: re.Pattern[str]) -> None:
        self._text = QPTemplate(text, pattern, lambda value: value)
        self.fields = sorted(set(self._text.fields))
        self._head = ("\r\n".join(static_headers) + "\r\n").encode("ascii")
        self._content_type = (
            "MIME-Version: 1.0\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n"
        ).encode("ascii")
        #: The fields of this message for the JSON APIs: a text body and no HTML.
        self.content = content_of(static_headers, text, None, pattern)

    def personalise(self, personal: Personal) -> bytes:
        """The complete message (RFC 5322 bytes, CRLF line ends) for one recipient; raises
        ``KeyError`` when ``personal.values`` lacks a placeholder's field."""
        headers = (
            f"Date: {personal.date}\r\n"
            f"Message-ID: {personal.message_id}\r\n"
            f"{personal.to_line}\r\n"
            f"List-Unsubscribe: {personal.list_unsubscribe}\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        ).encode("ascii")
        body = self._text.render(personal.values)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        return b"".join((self._head, headers, self._content_type, b"\r\n", body))
