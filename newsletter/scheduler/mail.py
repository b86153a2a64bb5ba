"""Plain-text messages to the editors (the draft is ready; an alert), handed to the
configured provider. They are not editions: no tracking, no unsubscribe link; marked
``Auto-Submitted: auto-generated`` (RFC 3834) so that no out-of-office answers them.

The headers are written by :mod:`newsletter.render.headers`, as the editions' are: the
``email`` package's folding loses the space before an encoded-word in some Python versions
("réformes à" arrived as "réformesà"). The body is quoted-printable UTF-8 (RFC 2045
section 6.7)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from email.utils import format_datetime, make_msgid

from newsletter.providers.base import Envelope, Result
from newsletter.render.headers import address_line, header_line
from newsletter.render.mime import qp_encode
from newsletter.timeutil import utcnow
from newsletter.wiring import App

LOG = logging.getLogger("newsletter.scheduler")


def editors_message(app: App, recipient: str, subject: str, body: str) -> bytes:
    """The RFC 5322 bytes (CRLF line ends) of a plain-text message from ``NEWSLETTER_FROM``
    to one editor: headers by :func:`~newsletter.render.headers.header_line` and
    :func:`~newsletter.render.headers.address_line` (RFC 2047 "Q" encoded-words that carry
    their own spaces), body quoted-printable UTF-8. Raises ``ValueError`` for an address
    that cannot stand in a header (non-ASCII, or holding ``<>",;``)."""
    s = app.settings
    lines = [
        address_line("From", s.sender_name, s.sender_address),
        address_line("To", None, recipient),
        header_line("Subject", subject),
        f"Date: {format_datetime(utcnow())}",
        f"Message-ID: {make_msgid(domain=s.sender_domain)}",
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
    ]
    text = body if body.endswith("\n") else body + "\n"
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + qp_encode(text)


def _envelopes(app: App, editors: Iterable[str], subject: str, body: str) -> list[Envelope]:
    """One envelope per editor; raises ``ValueError`` as :func:`editors_message` does."""
    return [
        Envelope(
            key=time.time_ns() // 1000 + index,  # unique: each notice is a new message
            sender=app.settings.sender_address,
            recipient=address,
            data=editors_message(app, address, subject, body),
            message_id="",
            campaign="editors",
        )
        for index, address in enumerate(editors)
    ]


def mail_editors(app: App, subject: str, body: str) -> int:
    """Send ``subject``/``body`` to every address of ``NEWSLETTER_EDITORS`` through the
    configured provider; returns how many the provider accepted. Never raises for a refusal
    or a provider failure: it is logged (the caller is often reporting a failure already)."""
    editors = app.settings.editors
    if not editors:
        return 0
    try:
        envelopes = _envelopes(app, editors, subject, body)
    except ValueError as exc:  # an address no header can hold
        LOG.error("cannot mail the editors: %s", exc, extra={"event": "editors_mail_failed"})
        return 0
    try:
        provider = app.provider()
    except Exception as exc:  # a configuration error must not hide the alert itself
        LOG.error("cannot mail the editors: %s", exc, extra={"event": "editors_mail_failed"})
        return 0
    accepted = 0
    try:
        for envelope in envelopes:  # one at a time: SMTP providers take batches of one
            batch = provider.send([envelope])
            result = batch.results[0] if batch.results else None
            if result is not None and result.result == Result.SENT:
                accepted += 1
            else:
                LOG.error(
                    "the provider did not take the editors' message to %s: %s",
                    envelope.recipient, batch.stop or (result.detail if result else "no answer"),
                    extra={"event": "editors_mail_failed"},
                )  # fmt: skip
    except Exception as exc:
        LOG.error("cannot mail the editors: %s", exc, extra={"event": "editors_mail_failed"})
    finally:
        provider.close()
    return accepted
