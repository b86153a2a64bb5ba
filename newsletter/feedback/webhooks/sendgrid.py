"""SendGrid signed Event Webhook (a JSON array of events, batched).

Sources: SendGrid documentation, "Event Webhook Reference" and "Getting started with the
Event Webhook Security Features": the request carries
``X-Twilio-Email-Event-Webhook-Signature`` (base64 DER ECDSA signature) and
``X-Twilio-Email-Event-Webhook-Timestamp``; the signed bytes are the timestamp followed by
the raw body; the curve is P-256 with SHA-256. Events are posted in batches, "every 30
seconds or when the batch size reaches 768 kilobytes" (hence the larger body limit of the
route). Each event has ``sg_event_id``, ``email``, ``event``: ``bounce`` (``type`` ``bounce``:
permanent, ``blocked``: temporary), ``spamreport``, ``unsubscribe``, ``group_unsubscribe``,
``delivered``, ``dropped`` (SendGrid's own suppression: mapped by its ``reason``), and others
we ignore (``processed``, ``deferred`` while SendGrid keeps retrying, ``open``, ``click``...).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

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

PROVIDER = "sendgrid"
LOG = logging.getLogger("newsletter.webhooks")
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
#: Largest batch SendGrid posts is 768 KB; we accept up to 1 MiB on this route (bytes).
MAX_BODY = 1024 * 1024

_DROPPED = {
    "Bounced Address": Kind.HARD_BOUNCE,
    "Invalid": Kind.HARD_BOUNCE,
    "Spam Reporting Address": Kind.COMPLAINT,
    "Unsubscribed Address": Kind.UNSUBSCRIBE,
}
_KINDS = {
    "spamreport": Kind.COMPLAINT,
    "unsubscribe": Kind.UNSUBSCRIBE,
    "group_unsubscribe": Kind.UNSUBSCRIBE,
    "delivered": Kind.DELIVERED,
}


def verify(
    body: bytes, headers: Mapping[str, str], key: ec.EllipticCurvePublicKey, *, now: float,
    tolerance: float,
) -> list[Any]:  # fmt: skip
    """The parsed body (a list of event objects) once the signature verifies.

    ``headers``: the request headers (case-insensitive mapping). Raises
    :class:`Unauthorized` (no, a wrong or a stale signature) or :class:`Malformed`.
    """
    signature, timestamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
    if not signature or not timestamp:
        raise Unauthorized(f"the {SIGNATURE} and {TIMESTAMP} headers are required")
    try:
        der = base64.b64decode(signature.strip(), validate=True)
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise Unauthorized("the SendGrid signature does not verify") from None
    fresh(timestamp, now, tolerance)
    payload = json_body(body)
    if not isinstance(payload, list):
        raise Malformed("expected a JSON array of SendGrid events")
    return payload


def events(payload: list[Any]) -> list[Event]:
    """The events of a verified batch, in order (none for kinds we ignore).

    Raises :class:`Malformed` when an entry is not an object with an ``event`` (the batch is
    not SendGrid's format: nothing is applied). An entry of a kind we apply that lacks its
    ``sg_event_id`` or a readable ``email`` is logged and skipped, so that one odd entry
    does not make SendGrid retry, and finally drop, the whole batch.
    """
    if not all(isinstance(e, dict) and isinstance(e.get("event"), str) for e in payload):
        raise Malformed("every SendGrid event is an object with an 'event'")
    found = []
    for entry in payload:
        name = entry["event"]
        kind: Kind | None
        if name == "bounce":
            kind = Kind.SOFT_BOUNCE if entry.get("type") == "blocked" else Kind.HARD_BOUNCE
        elif name == "dropped":
            kind = _DROPPED.get(str(entry.get("reason")))
        else:
            kind = _KINDS.get(name)
        if kind is None:
            continue
        event_id = entry.get("sg_event_id")
        try:
            if not isinstance(event_id, str) or not event_id:
                raise Malformed("no 'sg_event_id'")
            email = address(entry.get("email"))
        except Malformed as exc:
            LOG.warning("SendGrid %s event skipped: %s", name, exc)
            continue
        detail = " ".join(str(entry[k]) for k in ("status", "reason") if entry.get(k))
        found.append(Event(PROVIDER, key_of(event_id), kind, email, short(detail) or None))
    return found
