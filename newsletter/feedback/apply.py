"""Apply provider events (webhooks, DSN) to the store, each once.

One event, one transaction: the event is recorded in ``provider_events`` (unique per
provider and event key) together with its effect, so a duplicate delivery of the same event
(providers retry webhooks; a bounce message may be imported twice) changes nothing.

Effects, by kind:

- ``hard_bounce``, ``complaint``: the address goes on the suppression list and its
  subscriber stops receiving (status ``bounced`` / ``complained``).
- ``soft_bounce``: ``subscribers.soft_bounces`` grows by one; at ``soft_bounce_limit`` in a
  row the address is suppressed (reason ``soft_bounces``, status ``bounced``).
- ``delivered``: the soft-bounce count goes back to 0 ("in a row" ends). Recorded only when
  it resets a count, so that the table does not grow by one row per message sent.
- ``unsubscribe``: as the reader's own unsubscribe link
  (:func:`newsletter.store.subscribers.unsubscribe`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from newsletter.feedback.webhooks import Event, Kind
from newsletter.store.events import DuplicateEvent, event_seen, event_transaction, record_event
from newsletter.store.subscribers import (
    count_soft_bounce,
    email_key,
    reset_soft_bounces,
    subscriber_by_email,
    unsubscribe,
)
from newsletter.store.suppressions import suppress

LOG = logging.getLogger("newsletter.feedback.apply")


@dataclass(frozen=True)
class Applied:
    """What :func:`apply_event` did with ``event``: ``duplicate`` (seen before, nothing
    changed) or ``effect``, one of ``suppressed``, ``already suppressed``, ``counted N/L``,
    ``unsubscribed``, ``reset``, ``nothing`` (e.g. an address we do not know)."""

    event: Event
    duplicate: bool
    effect: str


def apply_event(
    sessions: sessionmaker[Session], event: Event, *, soft_bounce_limit: int
) -> Applied:
    """Apply ``event`` in one transaction, once (see the module docstring).

    ``soft_bounce_limit`` (>= 1): soft bounces in a row that suppress the address
    (``NEWSLETTER_SOFT_BOUNCE_LIMIT``). Database errors propagate (the caller answers 5xx so
    that the provider retries; nothing was committed).
    """
    try:
        with event_transaction(sessions) as session:
            if event_seen(session, event.provider, event.event_key):
                return Applied(event, duplicate=True, effect="nothing")
            effect = _effect(session, event, soft_bounce_limit)
            if effect is None:  # a delivery that reset nothing: not worth a row
                return Applied(event, duplicate=False, effect="nothing")
            # a concurrent twin fails here, and its effect is rolled back
            record_event(
                session, provider=event.provider, event_key=event.event_key,
                kind=event.kind.value, email_key=email_key(event.email), detail=event.detail,
            )  # fmt: skip
    except DuplicateEvent:
        return Applied(event, duplicate=True, effect="nothing")
    LOG.info("%s %s %s: %s", event.provider, event.kind.value, _masked(event.email), effect)
    return Applied(event, duplicate=False, effect=effect)


def apply_events(
    sessions: sessionmaker[Session], events: Iterable[Event], *, soft_bounce_limit: int
) -> list[Applied]:
    """:func:`apply_event` for each of ``events`` in order, each in its own transaction (a
    failure part-way leaves the earlier ones applied; a retry skips them as duplicates)."""
    return [apply_event(sessions, e, soft_bounce_limit=soft_bounce_limit) for e in events]


def _effect(session: Session, event: Event, limit: int) -> str | None:
    if event.kind in (Kind.HARD_BOUNCE, Kind.COMPLAINT):
        new = suppress(session, event.email, event.kind.value, event.detail)
        return "suppressed" if new else "already suppressed"
    if event.kind == Kind.SOFT_BOUNCE:
        count = count_soft_bounce(session, event.email)
        if count is None:
            return "nothing"
        if count >= limit:
            reason = f"{count} soft bounces in a row; last: {event.detail or '?'}"
            new = suppress(session, event.email, "soft_bounces", reason[:1000])
            return "suppressed" if new else "already suppressed"
        return f"counted {count}/{limit}"
    if event.kind == Kind.DELIVERED:
        return "reset" if reset_soft_bounces(session, event.email) else None
    if event.kind == Kind.UNSUBSCRIBE:
        subscriber = subscriber_by_email(session, event.email)
        if subscriber is not None and unsubscribe(session, subscriber):
            return "unsubscribed"
        return "nothing"
    raise ValueError(f"unknown event kind {event.kind!r}")


def _masked(email: str) -> str:
    """``helene@example.org`` -> ``h***@example.org`` (logs are read by many)."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"
