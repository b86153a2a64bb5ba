"""What providers tell us after a send: bounces, complaints, unsubscribes, deliveries.

Each provider module (``mailgun``, ``sendgrid``, ``postmark``, ``ses``, ``resend``) verifies a
webhook request and turns it into normalised :class:`Event` objects;
``newsletter.feedback.dsn`` does the same for RFC 3464 bounce messages.
``newsletter.feedback.apply`` applies them to the store.
These modules do no database work and, apart from the SNS certificate fetch, no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """A normalised event kind. Anything else a provider reports (opens, clicks, deferrals
    it is still retrying) is not turned into an event."""

    HARD_BOUNCE = "hard_bounce"  # the address does not exist or refuses us for good
    SOFT_BOUNCE = "soft_bounce"  # a failure that may pass (mailbox full, greylisting gave up)
    COMPLAINT = "complaint"  # the reader marked a message as spam (feedback loop)
    UNSUBSCRIBE = "unsubscribe"  # the reader unsubscribed through the provider
    DELIVERED = "delivered"  # the receiving server accepted a message


@dataclass(frozen=True)
class Event:
    """One normalised provider event about one address.

    ``provider``: ``mailgun``, ``sendgrid``, ``postmark``, ``ses``, ``resend`` or ``dsn``;
    ``event_key``: the provider's id of the event (at most 255 characters, see
    :func:`key_of`), the same on every redelivery of the same event; ``detail``: a short
    human-readable reason (SMTP status and diagnostic) or None.
    """

    provider: str
    event_key: str
    kind: Kind
    email: str
    detail: str | None = None


class WebhookError(Exception):
    """A webhook request we refuse; ``status_code`` is the HTTP answer (nothing changed)."""

    status_code = 400


class Malformed(WebhookError):
    """The body is not the provider's documented format (400)."""

    status_code = 400


class Unauthorized(WebhookError):
    """No, a wrong, or a stale signature or credentials (401)."""

    status_code = 401


class Forbidden(WebhookError):
    """Genuinely signed, but not for us (another SNS topic) or a replayed token (403)."""

    status_code = 403


#: Longest ``provider_events.event_key`` (the column is VARCHAR(255)).
MAX_KEY = 255


def key_of(*parts: object) -> str:
    """An event key from ``parts`` joined by ``:``; longer than 255 characters, the
    sha256 hex digest of that instead (stable for the same parts)."""
    key = ":".join(str(part) for part in parts)
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def short(text: object, limit: int = 500) -> str | None:
    """``text`` as a one-line string of at most ``limit`` characters (None stays None)."""
    if text is None:
        return None
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def address(value: object) -> str:
    """``value`` as an email address (a string with one ``@``); raises :class:`Malformed`."""
    if not isinstance(value, str):
        raise Malformed("an event has no recipient address")
    email = value.strip()
    if email.startswith("<") and email.endswith(">"):
        email = email[1:-1]
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in email) or len(email) > 320:
        raise Malformed(f"not an email address: {short(value, 80)!r}")
    return email
