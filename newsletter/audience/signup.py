"""Sign-up with double opt-in: a reader asks, a confirmation link activates.

The answer to a sign-up never tells whether the address was known (no enumeration): the
same message whatever the case, and a confirmation email only where one makes sense (a new,
pending or unsubscribed address; never to an active, bounced, complained or suppressed
one). Confirmation links expire after ``confirm_days`` (7 by default).
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from email.utils import format_datetime

from sqlalchemy.orm import Session, sessionmaker

from newsletter import words
from newsletter.links import Links, Purpose
from newsletter.render.headers import address_line, header_line
from newsletter.render.mime import qp_encode
from newsletter.store.db import transaction
from newsletter.store.models import Subscriber, SubscriberStatus
from newsletter.store.subscribers import (
    SubscriberRecord,
    activate,
    add_subscriber,
    email_key,
    get_subscriber,
    subscriber_by_email,
)
from newsletter.store.suppressions import is_suppressed
from newsletter.timeutil import utcnow


@dataclass(frozen=True)
class SignupOutcome:
    """What a sign-up did, for the caller's logs and tests; never shown to the reader."""

    subscriber_id: int | None
    confirmation_needed: bool


def request_signup(factory: sessionmaker[Session], record: SubscriberRecord) -> SignupOutcome:
    """Record a sign-up: a new address becomes ``pending``; a pending or unsubscribed one
    gets a new confirmation; an active, bounced, complained or suppressed one nothing."""
    key = email_key(record.email)
    with transaction(factory) as session:
        if is_suppressed(session, key):
            return SignupOutcome(None, False)
        existing = subscriber_by_email(session, key)
        if existing is None:
            result = add_subscriber(session, record, source="web", status=SubscriberStatus.PENDING)
            return SignupOutcome(result.subscriber.id, True)
        # A stranger may type anybody's address: an existing subscriber's data is not
        # changed until the owner confirms.
        wanted = existing.status in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED)
        return SignupOutcome(existing.id, wanted)


def confirm(factory: sessionmaker[Session], subscriber_id: int) -> Subscriber | None:
    """Activate the subscriber who followed a valid confirmation link (idempotent); an
    address that bounced or complained stays as it is. None if the subscriber is gone."""
    with transaction(factory) as session:
        subscriber = get_subscriber(session, subscriber_id)
        if subscriber is None:
            return None
        activate(session, subscriber)
        return subscriber


def confirmation_message(
    links: Links, *, subscriber_id: int, email: str, title: str, sender_name: str,
    sender_address: str, days: float, language: str = "fr",
) -> bytes:  # fmt: skip
    """The confirmation email (text and HTML, RFC 5322 bytes with CRLF) in ``language``
    (``fr`` or ``en``; other tags give French); it carries no List-Unsubscribe (not a bulk
    mail). Headers are written by :mod:`newsletter.render.headers` (RFC 2047 encoded-words
    that keep their spaces, as the editions' headers: the ``email`` package's folding
    loses some), the parts are quoted-printable UTF-8 (RFC 2045 section 6.7) in a
    multipart/alternative (RFC 2046 section 5.1.4). Raises ``ValueError`` for an address
    no header can hold."""
    url = links.subscriber_url(Purpose.CONFIRM, subscriber_id)
    domain = sender_address.rpartition("@")[2]
    valid = f"{days:g} {words.say('signup.days' if days >= 2 else 'signup.day', language)}"
    text = words.say("signup.text", language, title=title, valid=valid, url=url)
    page = words.say("signup.html", language, title=html.escape(title), valid=valid, url=url)
    boundary = f"=_nl_{secrets.token_hex(12)}"
    part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
    head = "\r\n".join([
        address_line("From", sender_name, sender_address),
        address_line("To", None, email),
        header_line("Subject", words.say("signup.subject", language, title=title)),
        f"Date: {format_datetime(utcnow())}",
        f"Message-ID: <confirm.{subscriber_id}.{secrets.token_hex(6)}@{domain}>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ])  # fmt: skip
    return b"".join((
        f"{head}\r\n\r\n--{boundary}\r\n{part.format('plain')}\r\n\r\n".encode("ascii"),
        qp_encode(text if text.endswith("\n") else text + "\n"),
        f"\r\n--{boundary}\r\n{part.format('html')}\r\n\r\n".encode("ascii"),
        qp_encode(page if page.endswith("\n") else page + "\n"),
        f"\r\n--{boundary}--\r\n".encode("ascii"),
    ))  # fmt: skip
