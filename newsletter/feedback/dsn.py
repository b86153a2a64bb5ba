"""Bounce messages: Delivery Status Notifications (RFC 3464) -> normalised events.

A DSN is a ``multipart/report; report-type=delivery-status`` message (RFC 6522) whose
``message/delivery-status`` part holds one block of per-message fields, then one block per
recipient with ``Final-Recipient`` (and maybe ``Original-Recipient``), ``Action``
(``failed``, ``delayed``, ``delivered``, ``relayed``, ``expanded``), ``Status`` (an RFC 3463
code ``class.subject.detail``) and maybe ``Diagnostic-Code`` (RFC 3464 section 2.3).

Classification:

- ``Action: failed`` with a ``5.x.x`` status: hard bounce; with ``4.x.x``: soft bounce
  (RFC 3463 section 3.1: 4 is a persistent transient failure, 5 a permanent one). RFC 3463
  asks that ``X.2.2`` (mailbox full) and ``X.3.1`` (mail system full) be treated as
  persistent transient failures whatever their class: soft.
- ``Action: delivered``: delivered. ``delayed`` (a warning: the MTA is still trying),
  ``relayed`` and ``expanded`` give no event.

The address is the ``Original-Recipient`` when it is an ``rfc822`` one (the address we
sent to, before any forwarding), else the ``Final-Recipient``. The event key is the DSN's
``Message-ID`` and the address (a hash of the report when there is no Message-ID), so that
importing the same bounce twice changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
import re
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesHeaderParser

from newsletter.feedback.webhooks import Event, Kind, Malformed, address, key_of, short

PROVIDER = "dsn"
#: RFC 3463 detail codes that are persistent transient failures in any class.
TRANSIENT_DETAILS = {"2.2", "3.1"}
_STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")


class NotADsn(ValueError):
    """The message is not a delivery-status report (an auto-reply, a plain-text bounce of an
    old MTA, spam sent to the bounce address...)."""


def kind_of(action: str, status: str) -> Kind | None:
    """The event kind of one recipient's ``Action`` and ``Status`` (None: no event)."""
    action = action.strip().lower().split()[0] if action.strip() else ""
    if action == "delivered":
        return Kind.DELIVERED
    if action != "failed":
        return None
    match = _STATUS.match(status.strip())
    if match is None:
        return None
    if match[1] == "4" or f"{int(match[2])}.{int(match[3])}" in TRANSIENT_DETAILS:
        return Kind.SOFT_BOUNCE
    return Kind.HARD_BOUNCE if match[1] == "5" else None


def parse(data: bytes) -> list[Event]:
    """The events of the bounce message ``data`` (RFC 5322 bytes), one per recipient that
    failed or was delivered.

    Raises :class:`NotADsn` for a message without a delivery-status report and
    :class:`~newsletter.feedback.webhooks.Malformed` for a report without any recipient block.
    """
    message = message_from_bytes(data, policy=policy.compat32)
    report = _delivery_status(message)
    if report is None:
        raise NotADsn("no message/delivery-status part")
    try:
        blocks = _blocks(report)
    except (LookupError, UnicodeError) as exc:  # odd charsets or bytes in the report
        raise Malformed(f"unreadable delivery-status part: {exc}") from None
    recipients = [block for block in blocks[1:] if block.get("Final-Recipient")]
    if not recipients:
        raise Malformed("the delivery-status report names no recipient")
    message_id = (message.get("Message-ID") or "").strip()
    reference = message_id or "sha256:" + hashlib.sha256(data).hexdigest()
    events = []
    problems: list[str] = []
    for block in recipients:
        kind = kind_of(str(block.get("Action", "")), str(block.get("Status", "")))
        if kind is None:
            problem = _unclassified(block)
            if problem:
                problems.append(problem)
            continue
        email = _recipient(block)
        if email is None:
            final = " ".join(str(block.get("Final-Recipient", "")).split())
            problems.append(f"the recipient {final!r} is not an rfc822 address")
            continue
        detail = " ".join(
            part for part in (str(block.get("Status", "")).strip(),
                              _diagnostic(block.get("Diagnostic-Code"))) if part
        )  # fmt: skip
        events.append(
            Event(PROVIDER, key_of(reference, email.lower()), kind, email, short(detail) or None)
        )
    if problems and not events:
        raise Malformed("; ".join(problems))
    return events


def _unclassified(block: Message) -> str | None:
    """Why a recipient block that reports a failure gives no event (None when it rightly
    gives none: ``delayed``, ``relayed``...): a ``Status`` that is not an RFC 3463
    ``class.subject.detail`` code with class 4 or 5."""
    action = " ".join(str(block.get("Action", "")).split()).lower()
    if action.split()[:1] != ["failed"]:
        return None
    status = " ".join(str(block.get("Status", "")).split())
    if not status:
        return "Action: failed without a Status field"
    return (
        f"Action: failed with an unreadable Status {status!r} "
        "(RFC 3463 wants class.subject.detail, class 4 or 5, e.g. 5.1.1)"
    )


def _delivery_status(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            return part
    return None


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` part (the parser gives them as
    sub-messages; an encoded part is decoded and split by blank lines)."""
    payload = part.get_payload()
    encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
    if isinstance(payload, list) and encoding not in ("base64", "quoted-printable"):
        return [block for block in payload if isinstance(block, Message)]
    decoded = part.get_payload(decode=True) if not isinstance(payload, list) else None
    raw = decoded if isinstance(decoded, bytes) else None
    if raw is None:  # the parser split the encoded text into blocks: take it back whole
        body = part.as_bytes().replace(b"\r\n", b"\n").partition(b"\n\n")[2]
        try:
            raw = base64.b64decode(body) if encoding == "base64" else quopri.decodestring(body)
        except (binascii.Error, ValueError):
            raise Malformed("the delivery-status part does not decode") from None
    text = raw.replace(b"\r\n", b"\n")
    parser = BytesHeaderParser(policy=policy.compat32)
    return [parser.parsebytes(chunk + b"\n") for chunk in re.split(rb"\n[ \t]*\n", text)
            if chunk.strip()]  # fmt: skip


def _recipient(block: Message) -> str | None:
    for name in ("Original-Recipient", "Final-Recipient"):
        value = " ".join(str(block.get(name, "")).split())
        kind, _, rest = value.partition(";")
        if rest and kind.strip().lower() == "rfc822":
            try:
                return address(rest.strip())
            except Malformed:
                continue
    return None


def _diagnostic(value: object) -> str:
    if not value:
        return ""
    text = " ".join(str(value).split())
    kind, _, rest = text.partition(";")
    return rest.strip() if kind.strip().lower() in ("smtp", "x-unix", "x-postfix") else text
