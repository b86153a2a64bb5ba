"""Our personalised RFC 5322 bytes, taken apart for the JSON APIs that want fields.

Postmark, SendGrid and Resend take a subject, a text and an HTML body and extra headers
rather than raw MIME. Each message is parsed once with the standard ``email`` package
(about a millisecond for an edition), so that every per-recipient part we wrote (the
``List-Unsubscribe`` and one-click headers, the Message-ID, the signed links in the bodies)
reaches the provider unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

#: Headers carried over to the provider's ``Headers`` field, in this order: the list's
#: identity and unsubscribe headers (RFC 2369, RFC 2919, RFC 8058), Gmail's Feedback-ID
#: and our Message-ID (so that replies and provider events can be matched to a delivery).
FORWARDED_HEADERS = (
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
)

_PARSER = BytesParser(policy=policy.default)


class MessageFormatError(ValueError):
    """The bytes are not a message these providers can carry (no body, no From)."""


@dataclass(frozen=True)
class ParsedMessage:
    """The fields of one message: ``sender`` and ``to`` as ``(name, address)``, the decoded
    ``subject``, ``text`` and ``html`` (either may be None, not both), and the
    :data:`FORWARDED_HEADERS` present, unfolded (name -> value)."""

    sender: tuple[str, str]
    to: tuple[str, str]
    subject: str
    text: str | None
    html: str | None
    headers: dict[str, str]

    @property
    def from_line(self) -> str:
        """``Name <address>`` (or the bare address) for APIs that take one string."""
        return _display(self.sender)

    @property
    def to_line(self) -> str:
        """``Name <address>`` (or the bare address) of the recipient."""
        return _display(self.to)


def _display(pair: tuple[str, str]) -> str:
    name, address = pair
    if not name:
        return address
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def _first_address(message: EmailMessage, name: str) -> tuple[str, str] | None:
    header = message.get(name)
    for address in getattr(header, "addresses", ()):
        if address.addr_spec:
            return address.display_name, address.addr_spec
    fallback = parseaddr(str(header or ""))
    return fallback if fallback[1] else None


def _name_of(message: EmailMessage, recipient: str) -> str:
    """The display name the ``To`` header gives ``recipient`` ("" when none)."""
    for address in getattr(message.get("To"), "addresses", ()):
        if address.addr_spec.lower() == recipient.lower():
            return str(address.display_name)
    return ""


def _unfold(value: str) -> str:
    return " ".join(value.replace("\r\n", "\n").split())


def parse_message(data: bytes, recipient: str) -> ParsedMessage:
    """Parse ``data`` (the RFC 5322 bytes of an :class:`Envelope`) for ``recipient``.

    Raises :class:`MessageFormatError` when it has neither a text nor an HTML body, or no
    ``From`` address.
    """
    message = _PARSER.parsebytes(data)
    assert isinstance(message, EmailMessage)
    sender = _first_address(message, "From")
    if sender is None:
        raise MessageFormatError("the message has no From address")
    to = (_name_of(message, recipient), recipient)
    text = html = None
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is not None:
            content = part.get_content().replace("\r\n", "\n")  # the API writes its own
            if kind == "plain":
                text = content
            else:
                html = content
    if text is None and html is None:
        raise MessageFormatError("the message has neither a text nor an HTML body")
    headers = {}
    raw = message.items()  # raw (unparsed) values keep the URLs byte-exact
    for name in FORWARDED_HEADERS:
        for key, value in raw:
            if key.lower() == name.lower():
                headers[name] = _unfold(str(value))
                break
    return ParsedMessage(
        sender=sender,
        to=to,
        subject=str(message.get("Subject", "")),
        text=text,
        html=html,
        headers=headers,
    )
