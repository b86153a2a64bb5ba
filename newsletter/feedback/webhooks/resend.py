"""Resend webhooks, signed by Svix.

Sources: Resend documentation, "Webhooks" / "Verify webhooks requests" and "Event types";
Svix documentation, "Verifying payloads manually": headers ``svix-id``, ``svix-timestamp``
(Unix seconds) and ``svix-signature`` (space-separated ``v1,<base64>`` entries); the signed
content is ``{svix-id}.{svix-timestamp}.{body}``, HMAC-SHA256 keyed with the base64-decoded
part of the ``whsec_`` secret; timestamps older than the tolerance are refused (Svix: 5
minutes). ``svix-id`` is the same on every retry of a message.

Events (``type``): ``email.bounced`` (``data.bounce.type`` ``Permanent``: hard;
``Transient``/``Undetermined``: soft; absent: hard, as Resend documents the event as a
permanent rejection), ``email.complained``, ``email.delivered``, ``contact.updated`` with
``data.unsubscribed`` true (an unsubscribe); others are ignored. ``data.to`` lists the
recipients of an email event; ``data.email`` is a contact's address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from newsletter.feedback.webhooks import (
    Event,
    Kind,
    Malformed,
    Unauthorized,
    address,
    key_of,
    short,
)
from newsletter.feedback.webhooks.signing import fresh, json_body

PROVIDER = "resend"


def verify(body: bytes, headers: Mapping[str, str], key: bytes, *, now: float,
           tolerance: float) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """``(svix-id, parsed body)`` once the Svix signature verifies with ``key`` (the decoded
    secret). Raises :class:`Unauthorized` (missing, wrong or stale) or :class:`Malformed`."""
    message_id = headers.get("svix-id")
    timestamp = headers.get("svix-timestamp")
    signatures = headers.get("svix-signature")
    if not message_id or not timestamp or not signatures:
        raise Unauthorized("the svix-id, svix-timestamp and svix-signature headers are required")
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    valid = any(
        version == "v1" and hmac.compare_digest(expected, value)
        for version, _, value in (entry.partition(",") for entry in signatures.split())
    )
    if not valid:
        raise Unauthorized("the Svix signature does not verify")
    fresh(timestamp, now, tolerance)
    payload = json_body(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise Malformed("expected a Resend event object with a 'type'")
    if not isinstance(payload.get("data"), dict):
        raise Malformed("a Resend event needs a 'data' object")
    return message_id, payload


def events(message_id: str, payload: dict[str, Any]) -> list[Event]:
    """The events of a verified Resend body, one per recipient (none for ignored types).
    Raises :class:`Malformed` when the event lacks its recipients."""
    name, data = payload["type"], payload["data"]
    if name == "contact.updated":
        if data.get("unsubscribed") is not True:
            return []
        email = address(data.get("email"))
        return [Event(PROVIDER, key_of(message_id, email.lower()), Kind.UNSUBSCRIBE, email)]
    detail = None
    if name == "email.bounced":
        bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
        kind = (
            Kind.SOFT_BOUNCE
            if bounce.get("type") in ("Transient", "Undetermined")
            else (Kind.HARD_BOUNCE)
        )
        detail = short(" ".join(str(bounce[k]) for k in ("type", "subType", "message")
                                if bounce.get(k))) or None  # fmt: skip
    elif name == "email.complained":
        kind = Kind.COMPLAINT
    elif name == "email.delivered":
        kind = Kind.DELIVERED
    else:
        return []
    recipients = data.get("to")
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list) or not recipients:
        raise Malformed(f"a {name} event needs 'data.to'")
    return [
        Event(PROVIDER, key_of(message_id, email.lower()), kind, email, detail)
        for email in (address(r) for r in recipients)
    ]
