"""The provider interface: envelopes in, one result per attempted message out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
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


@dataclass(frozen=True)
class Envelope:
    """One message to hand over: envelope sender and recipient and the RFC 5322 bytes.

    ``key`` identifies it to the caller (the delivery id); ``campaign`` groups the messages
    of one edition (its date), e.g. for a file outbox's folder or a provider's tag.
    """

    key: int
    sender: str
    recipient: str
    data: bytes
    message_id: str
    campaign: str


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
