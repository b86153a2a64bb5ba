"""The provider interface: envelopes in, one result per attempted message out."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from html import escape
from typing import Protocol


class Result(StrEnum):
    """What became of one message.

    - ``sent``: the provider accepted it (not "delivered to the inbox").
    - ``deferred``: refused for now (4xx, rate limit); safe to retry later.
    - ``failed``: refused for good (5xx, invalid address).
    - ``unsent``: never handed over (the connection failed first); safe to retry at once.
    - ``unknown``: the connection broke while the provider had the message; it may or may
      not have been accepted, so it must not be resent blindly.
    """

    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    UNSENT = "unsent"
    UNKNOWN = "unknown"


@dataclass(frozen=True, eq=False)
class Content:
    """A variant's message as the JSON APIs take it, shared by all its recipients.

    ``sender_name`` and ``subject`` are the exact text (never encoded-words: each API
    encodes them itself); ``headers`` are the static extra headers (``List-Id``,
    ``Feedback-ID``), unfolded. ``text`` and ``html`` hold placeholders matching
    ``placeholder`` (group 1: the field name); a value goes into ``html`` HTML-escaped,
    into ``text`` as is. ``token`` is random per content: providers build their
    substitution keys from it so that no text of the edition can be taken for one.
    """

    sender_name: str
    sender_address: str
    subject: str
    headers: tuple[tuple[str, str], ...]
    text: str | None
    html: str | None
    placeholder: re.Pattern[str]
    token: str = field(default_factory=lambda: secrets.token_hex(4))

    @cached_property
    def _pieces(self) -> tuple[list[str] | None, list[str] | None]:
        return (
            None if self.text is None else self.placeholder.split(self.text),
            None if self.html is None else self.placeholder.split(self.html),
        )

    @property
    def fields(self) -> list[str]:
        """The placeholders' field names, sorted, each once."""
        names: set[str] = set()
        for pieces in self._pieces:
            names.update(pieces[1::2] if pieces else ())
        return sorted(names)

    def fill(self, values: Mapping[str, str]) -> tuple[str | None, str | None]:
        """``text`` and ``html`` with ``values`` in place (escaped in the HTML): the same
        text as the MIME parts decode to. Raises ``KeyError`` for a missing field."""
        text_pieces, html_pieces = self._pieces
        text = html = None
        if text_pieces is not None:
            out = text_pieces[:]
            out[1::2] = [values[name] for name in text_pieces[1::2]]
            text = "".join(out)
        if html_pieces is not None:
            out = html_pieces[:]
            out[1::2] = [escape(values[name], quote=True) for name in html_pieces[1::2]]
            html = "".join(out)
        return text, html

    @cached_property
    def _json_pieces(
        self,
    ) -> tuple[list[bytes] | None, list[str] | None, list[bytes] | None, list[str] | None]:
        def encoded(pieces: list[str] | None) -> tuple[list[bytes] | None, list[str] | None]:
            if pieces is None:
                return None, None
            static = [json.dumps(p, ensure_ascii=False)[1:-1].encode() for p in pieces[0::2]]
            static[0] = b'"' + static[0]
            static[-1] += b'"'
            return static, pieces[1::2]

        text_pieces, html_pieces = self._pieces
        return (*encoded(text_pieces), *encoded(html_pieces))

    def fill_json(self, values: Mapping[str, str]) -> tuple[list[bytes] | None, list[bytes] | None]:
        """What :meth:`fill` gives, each as the UTF-8 pieces of a JSON string literal
        (quotes included; join them): the static parts were JSON-encoded once, so a
        reader's body costs no encoding of the whole text, and the request's body is one
        join of every reader's pieces. Raises ``KeyError`` for a missing field."""
        text_static, text_names, html_static, html_names = self._json_pieces
        text = html = None
        if text_static is not None and text_names is not None:
            text = [text_static[0]]
            for name, after in zip(text_names, text_static[1:], strict=True):
                text += (_json_text(values[name]), after)
        if html_static is not None and html_names is not None:
            html = [html_static[0]]
            for name, after in zip(html_names, html_static[1:], strict=True):
                html += (_json_text(escape(values[name], quote=True)), after)
        return text, html

    def keyed(self, key: Callable[[str, bool], str]) -> tuple[str | None, str | None]:
        """``text`` and ``html`` with each placeholder replaced by ``key(name, in_html)``:
        the provider's own substitution syntax."""
        text_pieces, html_pieces = self._pieces
        text = html = None
        if text_pieces is not None:
            out = text_pieces[:]
            out[1::2] = [key(name, False) for name in text_pieces[1::2]]
            text = "".join(out)
        if html_pieces is not None:
            out = html_pieces[:]
            out[1::2] = [key(name, True) for name in html_pieces[1::2]]
            html = "".join(out)
        return text, html


def _json_text(value: str) -> bytes:
    """``value`` escaped as the inside of a JSON string (RFC 8259 section 7), UTF-8."""
    return json.dumps(value, ensure_ascii=False)[1:-1].encode()


@dataclass(frozen=True)
class Recipient:
    """One reader's values for a :class:`Content`: the display ``name`` ("" for none,
    exact text), the ``list_unsubscribe`` header value on one line (RFC 2369: ``<https://
    ...>`` and optionally ``, <mailto:...>``) and the placeholder ``values`` (unescaped)."""

    name: str
    list_unsubscribe: str
    values: Mapping[str, str]


#: The RFC 8058 one-click header every edition message carries with its List-Unsubscribe.
ONE_CLICK = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


class Envelope:
    """One message to hand over: envelope sender and recipient and the RFC 5322 bytes.

    ``key`` identifies it to the caller (the delivery id); ``campaign`` groups the messages
    of one edition (its date), e.g. for a file outbox's folder or a provider's tag.

    ``data`` may be given as a function: the bytes are then built (and DKIM-signed) on first
    use, only by the providers that carry raw MIME (file, SMTP, SES). An edition's message
    also carries its variant's :class:`Content` and the reader's :class:`Recipient`, from
    which the JSON APIs build their payloads without parsing the bytes.
    """

    __slots__ = (
        "_build",
        "_data",
        "campaign",
        "content",
        "key",
        "message_id",
        "personal",
        "recipient",
        "sender",
    )  # fmt: skip

    def __init__(
        self,
        key: int,
        sender: str,
        recipient: str,
        data: bytes | Callable[[], bytes],
        message_id: str,
        campaign: str,
        *,
        content: Content | None = None,
        personal: Recipient | None = None,
    ) -> None:
        self.key, self.sender, self.recipient = key, sender, recipient
        self.message_id, self.campaign = message_id, campaign
        self.content, self.personal = content, personal
        if isinstance(data, bytes):
            self._data: bytes | None = data
            self._build: Callable[[], bytes] | None = None
        else:
            self._data, self._build = None, data

    @property
    def data(self) -> bytes:
        """The complete message (RFC 5322 bytes, CRLF line ends), built on first use."""
        if self._data is None:
            assert self._build is not None
            self._data = self._build()
            self._build = None
        return self._data

    @property
    def fields(self) -> tuple[Content, Recipient] | None:
        """The variant's content and the reader's values, when the envelope has both."""
        if self.content is None or self.personal is None:
            return None
        return self.content, self.personal

    def headers(self) -> dict[str, str]:
        """The extra headers of an edition's message for the JSON APIs: its Message-ID, the
        reader's List-Unsubscribe (RFC 2369) and the one-click header (RFC 8058), then the
        variant's own (List-Id, Feedback-ID). Empty without content."""
        if self.content is None or self.personal is None:
            return {}
        headers = {
            "Message-ID": self.message_id,
            "List-Unsubscribe": self.personal.list_unsubscribe,
            ONE_CLICK[0]: ONE_CLICK[1],
        }
        headers.update(self.content.headers)
        return headers

    def __repr__(self) -> str:
        return f"Envelope(key={self.key!r}, recipient={self.recipient!r})"


@dataclass(frozen=True)
class MessageResult:
    """A provider's answer for the envelope with ``key``. ``code`` is the SMTP or HTTP status
    when there is one; ``retry_after`` (seconds) is the provider's requested delay;
    ``hard_bounce`` says the address itself was refused for good (it goes on the
    suppression list)."""

    key: int
    result: Result
    provider_message_id: str | None = None
    code: int | None = None
    detail: str | None = None
    retry_after: float | None = None
    hard_bounce: bool = False  # the address does not exist: never mail it again


@dataclass
class BatchResult:
    """Results for a batch, in envelope order. ``stop`` says why the provider cannot go on
    (authentication refused, server gone): the caller stops the send and reports it."""

    results: list[MessageResult] = field(default_factory=list)
    stop: str | None = None


@dataclass(frozen=True)
class UncertainMessage:
    """A message left ``sending`` by a worker that died: its delivery id (``key``), its
    recipient and its ``campaign`` (the edition's date), as the envelope had them."""

    key: int
    recipient: str
    campaign: str


class Settles(Protocol):
    """A provider that can tell, after a crash, whether an uncertain message reached it (an
    outbox it can read, or an idempotency key that makes a resend harmless)."""

    def settle(self, messages: Sequence[UncertainMessage]) -> dict[int, bool]:
        """For each key it can answer: True if the provider has the message, False if it
        never received it. Keys it cannot answer for are left out (they stay uncertain)."""
        ...


class ProviderConfigError(Exception):
    """The provider's settings cannot work (e.g. a password over an unencrypted link)."""


class Provider(Protocol):
    """Hands messages over. ``name`` is recorded on each delivery; ``batch_size`` is how many
    messages one call hands over at once (1 for SMTP: each is in flight on its own)."""

    name: str
    batch_size: int

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Hand over ``envelopes``; one result per envelope, in order."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
