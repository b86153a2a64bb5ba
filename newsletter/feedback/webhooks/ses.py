"""Amazon SES bounce, complaint and delivery notifications, carried by SNS.

Source: Amazon SES Developer Guide, "Amazon SNS notification contents for Amazon SES"
(feedback notifications: ``notificationType``) and "Event publishing: contents of event data"
(configuration-set events: ``eventType``); both have the same ``bounce``/``complaint``/
``delivery`` objects:

- ``Bounce``: ``bounce.bounceType`` ``Permanent`` (hard), ``Transient`` or ``Undetermined``
  (soft); ``bounce.bouncedRecipients[]`` with ``emailAddress``, ``status``,
  ``diagnosticCode``; ``bounce.feedbackId``.
- ``Complaint``: ``complaint.complainedRecipients[]``, ``complaint.feedbackId``.
- ``Delivery``: ``delivery.recipients[]`` and ``mail.messageId``.
Other types (``Send``, ``Open``, ``Click``...) are ignored.
"""

from __future__ import annotations

from typing import Any

from newsletter.feedback.webhooks import Event, Kind, Malformed, address, key_of, short
from newsletter.feedback.webhooks.signing import json_body

PROVIDER = "ses"


def events(message: str, sns_message_id: str) -> list[Event]:
    """The events of an SES notification (the SNS ``Message`` string), one per recipient.

    ``sns_message_id`` keys events where SES gives no feedback id. Raises
    :class:`Malformed` when the message is not SES JSON or lacks what its type needs.
    """
    data = json_body(message.encode())
    if not isinstance(data, dict):
        raise Malformed("the SNS Message is not an SES notification object")
    kind_name = data.get("notificationType") or data.get("eventType")
    if not isinstance(kind_name, str):
        raise Malformed("an SES notification needs notificationType or eventType")
    if kind_name == "Bounce":
        bounce = _object(data, "bounce")
        bounce_type = bounce.get("bounceType")
        kind = Kind.HARD_BOUNCE if bounce_type == "Permanent" else Kind.SOFT_BOUNCE
        feedback = bounce.get("feedbackId") or sns_message_id
        found = []
        for recipient in _list(bounce, "bouncedRecipients"):
            if not isinstance(recipient, dict):
                raise Malformed("bouncedRecipients holds objects")
            email = address(recipient.get("emailAddress"))
            detail = " ".join(
                str(part)
                for part in (bounce_type, bounce.get("bounceSubType"), recipient.get("status"),
                             recipient.get("diagnosticCode"))
                if part
            )  # fmt: skip
            found.append(Event(PROVIDER, key_of("bounce", feedback, email.lower()), kind, email,
                               short(detail) or None))  # fmt: skip
        return found
    if kind_name == "Complaint":
        complaint = _object(data, "complaint")
        feedback = complaint.get("feedbackId") or sns_message_id
        complaint_detail = short(complaint.get("complaintFeedbackType"))
        found = []
        for recipient in _list(complaint, "complainedRecipients"):
            if not isinstance(recipient, dict):
                raise Malformed("complainedRecipients holds objects")
            email = address(recipient.get("emailAddress"))
            found.append(Event(PROVIDER, key_of("complaint", feedback, email.lower()),
                               Kind.COMPLAINT, email, complaint_detail))  # fmt: skip
        return found
    if kind_name == "Delivery":
        delivery = _object(data, "delivery")
        mail: dict[str, Any] = data["mail"] if isinstance(data.get("mail"), dict) else {}
        message_id = mail.get("messageId") or sns_message_id
        return [
            Event(PROVIDER, key_of("delivery", message_id, email.lower()), Kind.DELIVERED, email)
            for email in (address(r) for r in _list(delivery, "recipients"))
        ]
    return []


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise Malformed(f"an SES notification needs a {name!r} object")
    return value


def _list(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    if not isinstance(value, list) or not value:
        raise Malformed(f"an SES notification needs a non-empty {name!r} list")
    return value
