"""Mailgun webhooks (JSON body: ``signature`` and ``event-data``).

Source: Mailgun documentation, "Webhooks" / "Securing webhooks": the body carries
``signature.timestamp`` (Unix seconds), ``signature.token`` (50 random characters) and
``signature.signature``, the hex HMAC-SHA256 of ``timestamp + token`` keyed with the HTTP
webhook signing key. Mailgun advises refusing stale timestamps and tokens seen before.
Events (``event-data.event``): ``failed`` with ``severity`` ``permanent`` or ``temporary``,
``complained``, ``unsubscribed``, ``delivered`` (and ``accepted``, ``opened``, ``clicked``,
``stored``, which we ignore). ``event-data.id`` identifies the event.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from newsletter.feedback.webhooks import (
    Event,
    Forbidden,
    Kind,
    Malformed,
    Unauthorized,
    address,
    key_of,
)
from newsletter.feedback.webhooks import short as shorten
from newsletter.feedback.webhooks.signing import SeenTokens, fresh, json_body

PROVIDER = "mailgun"


def verify(
    body: bytes, key: str, *, now: float, tolerance: float, seen: SeenTokens
) -> dict[str, Any]:
    """The parsed body once its signature is verified; returns the body (a dict).

    Raises :class:`Malformed` (not JSON / no signature object), :class:`Unauthorized` (a wrong
    or stale signature), :class:`Forbidden` (a token already used). The caller adds the token
    to ``seen`` once the events are applied.
    """
    payload = json_body(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("signature"), dict):
        raise Malformed("expected Mailgun's JSON webhook body with a 'signature' object")
    signature = payload["signature"]
    timestamp, token, digest = (signature.get(k) for k in ("timestamp", "token", "signature"))
    if not all(isinstance(v, str | int) for v in (timestamp, token, digest)):
        raise Unauthorized("the Mailgun signature is incomplete")
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(digest).lower()):
        raise Unauthorized("the Mailgun signature does not verify")
    fresh(timestamp, now, tolerance)
    if str(token) in seen:
        raise Forbidden("this Mailgun token was already used (a replay)")
    return payload


def events(payload: dict[str, Any]) -> list[Event]:
    """The events of a verified Mailgun body (none for kinds we ignore).

    Raises :class:`Malformed` when ``event-data`` lacks what its event needs.
    """
    data = payload.get("event-data")
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise Malformed("expected an 'event-data' object with an 'event'")
    name = data["event"]
    if name == "failed":
        severity = data.get("severity")
        if severity not in ("permanent", "temporary"):
            raise Malformed("a 'failed' event needs severity permanent or temporary")
        kind = Kind.HARD_BOUNCE if severity == "permanent" else Kind.SOFT_BOUNCE
    else:
        other = {
            "complained": Kind.COMPLAINT,
            "unsubscribed": Kind.UNSUBSCRIBE,
            "delivered": Kind.DELIVERED,
        }.get(name)
        if other is None:
            return []
        kind = other
    event_id = data.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise Malformed("the event has no 'id'")
    status: dict[str, Any] = (
        data["delivery-status"] if isinstance(data.get("delivery-status"), dict) else {}
    )
    detail = " ".join(
        str(part)
        for part in (
            status.get("code"),
            status.get("message") or status.get("description"),
            data.get("reason"),
        )
        if part
    )
    return [
        Event(PROVIDER, key_of(event_id), kind, address(data.get("recipient")),
              shorten(detail) or None)
    ]  # fmt: skip
