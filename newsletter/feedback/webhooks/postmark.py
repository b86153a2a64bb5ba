"""Postmark webhooks (one JSON object per request), authenticated by HTTP basic auth.

Sources: Postmark documentation, "Webhooks overview" (protect a webhook with basic-auth
credentials in its URL), "Bounce webhook", "Spam complaint webhook", "Delivery webhook",
"Subscription change webhook" and "Bounce API: bounce types". ``RecordType`` says which:

- ``Bounce``: ``ID``, ``Type`` (``HardBounce``, ``BadEmailAddress``: permanent;
  ``SoftBounce``, ``Transient``, ``DnsError``: temporary; ``SpamComplaint``; ``Unsubscribe``;
  others such as ``AutoResponder`` are ignored), ``Email``, ``Description``, ``Details``.
- ``SpamComplaint``: ``ID``, ``Email``.
- ``Delivery``: ``MessageID``, ``Recipient``, ``DeliveredAt``.
- ``SubscriptionChange``: ``MessageID``, ``Recipient``, ``SuppressSending`` (true: stop),
  ``SuppressionReason`` (``ManualSuppression``: the reader unsubscribed, ``HardBounce``,
  ``SpamComplaint``), ``ChangedAt``. Reactivations (false) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from newsletter.feedback.webhooks import (
    Event,
    Kind,
    Malformed,
    Unauthorized,
    address,
    key_of,
    short,
)
from newsletter.feedback.webhooks.signing import json_body

PROVIDER = "postmark"

_BOUNCES = {
    "HardBounce": Kind.HARD_BOUNCE,
    "BadEmailAddress": Kind.HARD_BOUNCE,
    "SoftBounce": Kind.SOFT_BOUNCE,
    "Transient": Kind.SOFT_BOUNCE,
    "DnsError": Kind.SOFT_BOUNCE,
    "SpamComplaint": Kind.COMPLAINT,
    "Unsubscribe": Kind.UNSUBSCRIBE,
}
_SUPPRESSIONS = {
    "ManualSuppression": Kind.UNSUBSCRIBE,
    "HardBounce": Kind.HARD_BOUNCE,
    "SpamComplaint": Kind.COMPLAINT,
}


def verify(authorization: str | None, user: str, password: str) -> None:
    """Check the ``Authorization: Basic`` header against ``user``/``password`` (constant
    time). Raises :class:`Unauthorized` when missing or wrong."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("HTTP basic authentication is required")
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized("unreadable basic credentials") from None
    expected = f"{user}:{password}".encode()
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("wrong credentials")


def events(body: bytes) -> list[Event]:
    """The events of one Postmark webhook body (none for kinds we ignore).

    Raises :class:`Malformed` when it is not a JSON object with a ``RecordType`` or lacks
    what its record type needs.
    """
    payload = json_body(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("RecordType"), str):
        raise Malformed("expected a Postmark webhook object with a 'RecordType'")
    record = payload["RecordType"]
    if record in ("Bounce", "SpamComplaint"):
        kind = _BOUNCES.get(str(payload.get("Type")))
        if record == "SpamComplaint":
            kind = Kind.COMPLAINT
        if kind is None:
            return []
        if not isinstance(payload.get("ID"), int | str) or payload.get("ID") in ("", None):
            raise Malformed(f"a {record} record has no 'ID'")
        detail = " ".join(
            str(payload[k]) for k in ("Type", "Description", "Details") if payload.get(k)
        )
        return [
            Event(PROVIDER, key_of(record, payload["ID"]), kind, address(payload.get("Email")),
                  short(detail) or None)
        ]  # fmt: skip
    if record == "Delivery":
        email = address(payload.get("Recipient"))
        message_id = payload.get("MessageID")
        if not isinstance(message_id, str) or not message_id:
            raise Malformed("a Delivery record has no 'MessageID'")
        return [Event(PROVIDER, key_of(record, message_id, email.lower()), Kind.DELIVERED, email)]
    if record == "SubscriptionChange":
        email = address(payload.get("Recipient"))
        if payload.get("SuppressSending") is not True:
            return []
        reason = str(payload.get("SuppressionReason"))
        kind = _SUPPRESSIONS.get(reason)
        if kind is None:
            return []
        parts = (payload.get("MessageID"), email.lower(), payload.get("ChangedAt"), reason)
        return [Event(PROVIDER, key_of(record, *parts), kind, email, reason)]
    return []
