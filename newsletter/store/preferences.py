"""A reader's delivery preferences: what the preferences page may change, and the change.

The columns (``frequency``, ``weekday``, ``paused_until``, ``format``, ``timezone``,
``topics``) exist since migration 0002; the release of the next edition reads them, so a
change applies from the next edition on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from newsletter.store.models import Frequency, MessageFormat, Subscriber

#: Marks a field the change leaves as it is.
KEEP = object()


@dataclass(frozen=True)
class PreferenceChange:
    """New values for a subscriber's preferences; a field left at :data:`KEEP` is unchanged.

    ``weekday``: 0 = Monday ... 6 = Sunday, meaningful for ``Frequency.WEEKLY``;
    ``paused_until``: the first local date the reader receives again (None: not paused);
    ``timezone``: an IANA name already validated, or None for the newsletter's own zone.
    """

    topics: list[str] | object = KEEP
    frequency: Frequency | object = KEEP
    weekday: int | object | None = KEEP
    paused_until: date | object | None = KEEP
    format: MessageFormat | object = KEEP
    timezone: str | object | None = KEEP


def save_preferences(
    session: Session, subscriber_id: int, change: PreferenceChange
) -> Subscriber | None:
    """Apply ``change`` to subscriber ``subscriber_id`` (whatever the status: an
    unsubscribed reader's choices hold if they come back). Returns the subscriber, or None
    when it no longer exists. Does not commit."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    for name in ("topics", "frequency", "weekday", "paused_until", "format", "timezone"):
        value = getattr(change, name)
        if value is not KEEP:
            setattr(subscriber, name, value)
    return subscriber
