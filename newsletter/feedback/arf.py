"""Spam complaints by email: feedback-loop reports in the Abuse Reporting Format (RFC 5965).

Mailbox providers' feedback loops (Yahoo, Microsoft JMRP, many ISPs) send a
``multipart/report; report-type=feedback-report`` message: a ``message/feedback-report``
part with ``Feedback-Type`` (``abuse`` is a spam complaint; ``fraud``, ``virus``, ``other``,
``not-spam`` are not about the reader) and maybe ``Original-Rcpt-To``, then the original
message or its headers (RFC 5965 section 2). Feedback loops often redact the recipient:
then the original message's ``To`` is used (ours carry one recipient each).
"""

from __future__ import annotations

import hashlib
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from newsletter.feedback.webhooks import Event, Kind, Malformed, address, key_of, short

PROVIDER = "arf"
#: Feedback types that are a reader's complaint about our mail.
COMPLAINTS = {"abuse"}


class NotAFeedbackReport(ValueError):
    """The message has no ``message/feedback-report`` part."""


def _headers(part: Message) -> Message:
    """The header block a ``message/*`` part carries: the parser's sub-message, or its text
    parsed as headers."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser().parsestr(str(payload))


def parse(data: bytes) -> list[Event]:
    """The complaint of the feedback report ``data`` (one event, or none for other feedback
    types). Raises :class:`NotAFeedbackReport`, or :class:`~newsletter.feedback.webhooks.Malformed`
    when the report names no recipient we can read."""
    message = message_from_bytes(data, policy=policy.compat32)
    fields: Message | None = None
    original: Message | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report" and fields is None:
            fields = _headers(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _headers(part)
    if fields is None:
        raise NotAFeedbackReport("no message/feedback-report part")
    feedback = str(fields.get("Feedback-Type", "")).strip().lower()
    if feedback not in COMPLAINTS:
        return []
    email = _recipient(fields, original)
    reference = (message.get("Message-ID") or "").strip() or (
        "sha256:" + hashlib.sha256(data).hexdigest()
    )
    detail = short(f"{feedback} report from {fields.get('User-Agent') or 'a feedback loop'}")
    return [Event(PROVIDER, key_of(reference, email.lower()), Kind.COMPLAINT, email, detail)]


def _recipient(fields: Message, original: Message | None) -> str:
    candidates = [str(fields.get("Original-Rcpt-To", ""))]
    if original is not None:
        candidates += [addr for _, addr in getaddresses([str(original.get("To", ""))])]
    for candidate in candidates:
        try:
            return address(candidate)
        except Malformed:
            continue
    raise Malformed("the feedback report names no recipient (Original-Rcpt-To or To)")
