"""Plain-text messages to the editors (the draft is ready; an alert), handed to the
configured provider. They are not editions: no tracking, no unsubscribe link; marked
``Auto-Submitted: auto-generated`` (RFC 3834) so that no out-of-office answers them."""

from __future__ import annotations

import logging
import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from newsletter.providers.base import Envelope, Result
from newsletter.timeutil import utcnow
from newsletter.wiring import App

LOG = logging.getLogger("newsletter.scheduler")


def editors_message(app: App, recipient: str, subject: str, body: str) -> bytes:
    """The RFC 5322 bytes of a plain-text message from ``NEWSLETTER_FROM`` to one editor."""
    s = app.settings
    message = EmailMessage(policy=SMTP)
    message["From"] = s.sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=s.sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message.as_bytes()


def mail_editors(app: App, subject: str, body: str) -> int:
    """Send ``subject``/``body`` to every address of ``NEWSLETTER_EDITORS`` through the
    configured provider; returns how many the provider accepted. Never raises for a refusal
    or a provider failure: it is logged (the caller is often reporting a failure already)."""
    editors = app.settings.editors
    if not editors:
        return 0
    envelopes = [
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
