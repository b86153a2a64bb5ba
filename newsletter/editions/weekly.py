"""The weekly edition: for readers on the weekly frequency, on their weekday, the week's
most important stories in the same five minutes, chosen by the same ranking (the daily
policy) over the seven local days before the send time.

It is its own edition (``newsletter="weekly"``, unique per date like the daily one), composed
at the daily compose time on a day when some active reader has that weekday, and released at
the send time to the weekly readers of that weekday only. The daily editions do not hide
their stories from it (a weekly reader has not read them); it never takes a story from a
daily edition either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from newsletter import words as i18n
from newsletter.app import App, _candidates, _decisions, _item_row
from newsletter.compose.edition import compose_plan
from newsletter.deliver.worker import RunReport
from newsletter.store.articles import articles_in_window
from newsletter.store.db import transaction
from newsletter.store.editions import get_edition, release_edition, save_draft
from newsletter.store.models import (
    Edition,
    EditionStatus,
    Frequency,
    Subscriber,
    SubscriberStatus,
)
from newsletter.store.outbox import create_deliveries
from newsletter.store.subscribers import active_topic_choices
from newsletter.store.workers import live_workers
from newsletter.timeutil import local_datetime

WEEKLY = "weekly"
#: Local days the weekly edition looks back over.
WEEK_DAYS = 7


@dataclass
class WeeklySend:
    """What releasing the weekly edition of a date did."""

    edition: Edition
    released: bool
    created: int
    run: RunReport
    handed_to_workers: int = 0


def weekly_readers(app: App, day: date) -> int:
    """Active readers on the weekly frequency whose weekday is ``day``'s."""
    with app.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(Subscriber).where(
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.frequency == Frequency.WEEKLY,
                Subscriber.weekday == day.weekday(),
            )
        ) or 0  # fmt: skip


def week_window(app: App, day: date) -> tuple[datetime, datetime]:
    """``[start, end)`` aware UTC: the send time seven local days before ``day`` to the
    send time of ``day`` (167 to 169 hours across a clock change)."""
    s = app.settings
    return (
        local_datetime(day - timedelta(days=WEEK_DAYS), s.send_time, s.zone),
        local_datetime(day, s.send_time, s.zone),
    )


def weekly_edition(app: App, day: date) -> Edition | None:
    """The stored weekly edition of ``day`` (items loaded) or None."""
    with app.sessions() as session:
        return get_edition(session, day, WEEKLY)


def compose_weekly(app: App, day: date) -> Edition | None:
    """Compose (or recompose) the weekly draft of ``day``, keeping an editor's decisions;
    None when no reader gets a weekly edition that weekday. A released edition is left as
    it is and returned."""
    if not weekly_readers(app, day):
        return None
    s = app.settings
    window = week_window(app, day)
    with transaction(app.sessions) as session:
        existing = get_edition(session, day, WEEKLY)
        if existing is not None and existing.status != EditionStatus.DRAFT:
            return existing
        exclude = (existing.id,) if existing is not None else ()
        decisions = _decisions(existing)
        candidates = _candidates(
            articles_in_window(session, *window, exclude_edition_ids=exclude, newsletter=WEEKLY)
        )
        plan = compose_plan(candidates, window_end=window[1], policy=app.policy(),
                            decisions=decisions)  # fmt: skip
        variants = {"": plan}
        for topics in active_topic_choices(session):
            variants[",".join(sorted(topics))] = compose_plan(
                candidates, window_end=window[1], policy=app.policy(topics), decisions=decisions
            )
        start = i18n.long_date(day - timedelta(days=WEEK_DAYS - 1), s.language)
        save_draft(
            session, day, newsletter=WEEKLY,
            subject=plan.subject or i18n.say("edition.weekly_subject", "fr", title=s.title,
                                             start=start),
            preheader=plan.preheader, reading_seconds=plan.reading_seconds,
            budget_seconds=plan.budget_seconds, window=window,
            items={key: [_item_row(item) for item in p.items] for key, p in variants.items()},
            variant_seconds={key: p.reading_seconds for key, p in variants.items() if key},
        )  # fmt: skip
    return weekly_edition(app, day)


def send_weekly(app: App, day: date, *, in_process: bool = False) -> WeeklySend | None:
    """Release the weekly draft of ``day`` to the weekly readers of its weekday (one
    guarded release: a second call, or another process, releases nothing) and deliver it,
    or leave it to running ``newsletter worker`` processes unless ``in_process``. None when
    there is no weekly edition that day, or it is held or has no items."""
    edition = weekly_edition(app, day)
    if edition is None or edition.held or not edition.items:
        return None
    released, created = False, 0
    with transaction(app.sessions) as session:
        if edition.status == EditionStatus.DRAFT:
            released = release_edition(session, edition.id)
        if released:
            created = create_deliveries(
                session, edition.id, frequency=Frequency.WEEKLY, weekday=day.weekday()
            )
    edition = weekly_edition(app, day) or edition
    with app.sessions() as session:
        workers = live_workers(session)
    if workers and not in_process:
        return WeeklySend(edition, released, created, RunReport(), handed_to_workers=workers)
    run = app.deliver(edition)
    return WeeklySend(weekly_edition(app, day) or edition, released, created, run)
