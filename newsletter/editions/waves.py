"""Time-zone waves (``NEWSLETTER_TIMEZONE_WAVES``): each reader gets the day's edition when
the send time has come in their own time zone (their ``timezone``; the newsletter's when
they have none), at the earliest at the edition's release.

The release creates the delivery rows of the zones whose local send time on the edition's
date has passed; the scheduler's periodic check adds the next zones' rows as their send
time arrives (about one wave an hour across the world) and delivers them. Rows are unique
per (edition, reader), so a wave added twice (two replicas) adds nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from newsletter.app import App, UsageError
from newsletter.deliver.worker import RunReport
from newsletter.store.db import transaction
from newsletter.store.editions import release_edition, reopen_for_wave
from newsletter.store.models import (
    Edition,
    EditionStatus,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from newsletter.store.outbox import create_deliveries
from newsletter.store.workers import live_workers
from newsletter.timeutil import UnknownTimeZone, get_zone, local_datetime


@dataclass
class Wave:
    """What one wave did: ``released`` the edition, ``created`` delivery rows, delivered
    ``run`` (or ``handed_to_workers``); ``waiting``: the zones still to come."""

    edition: Edition
    released: bool
    created: int
    run: RunReport
    waiting: list[str | None]
    handed_to_workers: int = 0


def zones_due(app: App, day: date, now: datetime) -> tuple[list[str | None], list[str | None]]:
    """The time zones of the active daily readers split into (reached, waiting): reached
    when the send time of ``day`` (a date of the newsletter's zone) has passed there at
    ``now``. None stands for readers without a zone (the newsletter's); an unknown zone
    name counts as the newsletter's too."""
    s = app.settings
    with app.sessions() as session:
        names = session.scalars(
            select(Subscriber.timezone).distinct().where(
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.frequency == Frequency.DAILY,
            )
        ).all()  # fmt: skip
    reached: list[str | None] = []
    waiting: list[str | None] = []
    for name in names:
        try:
            zone = get_zone(name) if name else s.zone
        except UnknownTimeZone:
            zone = s.zone
        (reached if local_datetime(day, s.send_time, zone) <= now else waiting).append(name)
    return reached, waiting


def send_wave(
    app: App,
    day: date,
    now: datetime,
    *,
    release: bool,
    should_stop: Callable[[], bool] = lambda: False,
) -> Wave | None:
    """Release the edition of ``day`` (``release``: the send time has come; composed first
    if missing) and add the rows of the zones reached at ``now``, then deliver them, or
    leave them to running workers. None when the edition is not released and ``release``
    is false, or is paused. Raises :class:`UsageError` for an edition without items."""
    edition = app.edition(day)
    if edition is None and release:
        edition = app.compose(day).edition
    if edition is None or (edition.status == EditionStatus.DRAFT and not release):
        return None
    if edition.status == EditionStatus.PAUSED:
        return None
    if not edition.items:
        raise UsageError(f"the edition of {day.isoformat()} has no items: nothing to send")
    reached, waiting = zones_due(app, day, now)
    released = False
    with transaction(app.sessions) as session:
        if edition.status == EditionStatus.DRAFT:
            released = release_edition(session, edition.id)
        created = create_deliveries(session, edition.id, zones=reached)
        reopened = reopen_for_wave(session, edition.id)
    edition = app.edition(day) or edition
    if not (released or created or reopened):
        return Wave(edition, False, 0, RunReport(), waiting)
    with app.sessions() as session:
        workers = live_workers(session)
    if workers:
        return Wave(edition, released, created, RunReport(), waiting, handed_to_workers=workers)
    run = app.deliver(edition, should_stop=should_stop)
    return Wave(app.edition(day) or edition, released, created, run, waiting)
