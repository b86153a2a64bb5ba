"""Edition queries: drafts are replaced whole; a released edition is never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from newsletter.store.models import Edition, EditionItem, EditionStatus
from newsletter.timeutil import utcnow


class EditionLocked(Exception):
    """The edition was released (sending or sent) and can no longer change."""


@dataclass(frozen=True)
class ItemRow:
    """One item to store in an edition, in display order."""

    article_id: int | None
    section: str | None
    category: str | None
    url: str
    title: str
    summary: str
    source_name: str | None
    reading_seconds: float
    score: float


def get_edition(session: Session, day: date, newsletter: str = "default") -> Edition | None:
    """The edition of local date ``day`` with its items loaded, or None."""
    return session.scalars(
        select(Edition)
        .where(Edition.newsletter == newsletter, Edition.date == day)
        .options(selectinload(Edition.items))
    ).first()


def save_draft(
    session: Session,
    day: date,
    *,
    subject: str,
    preheader: str,
    reading_seconds: float,
    budget_seconds: int,
    window: tuple[datetime, datetime],
    items: list[ItemRow],
    newsletter: str = "default",
) -> Edition:
    """Create the draft of ``day`` or replace the existing draft's content and items.

    Raises :class:`EditionLocked` when the edition was already released. Does not commit.
    """
    edition = get_edition(session, day, newsletter)
    now = utcnow()
    if edition is None:
        edition = Edition(newsletter=newsletter, date=day, status=EditionStatus.DRAFT)
        session.add(edition)
    elif edition.status != EditionStatus.DRAFT:
        raise EditionLocked(
            f"the edition of {day.isoformat()} is {edition.status}; it is never changed"
        )
    edition.subject = subject
    edition.preheader = preheader
    edition.reading_seconds = round(reading_seconds)
    edition.budget_seconds = budget_seconds
    edition.window_start, edition.window_end = window
    edition.composed_at = now
    edition.items.clear()
    session.flush()  # delete the old items before their positions are reused
    for position, row in enumerate(items):
        edition.items.append(
            EditionItem(
                position=position,
                article_id=row.article_id,
                section=row.section,
                category=row.category,
                url=row.url,
                title=row.title,
                summary=row.summary,
                source_name=row.source_name,
                reading_seconds=row.reading_seconds,
                score=row.score,
            )
        )
    session.flush()
    return edition


def release_edition(session: Session, edition_id: int) -> bool:
    """Move a draft to ``sending`` in one guarded statement; True if this call released it.

    Two processes racing to release the same edition cannot both win.
    """
    result = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.status == EditionStatus.DRAFT)
        .values(status=EditionStatus.SENDING, released_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def mark_edition_sent(session: Session, edition_id: int) -> bool:
    """Move a ``sending`` edition to ``sent``; True if this call did."""
    result = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.status == EditionStatus.SENDING)
        .values(status=EditionStatus.SENT, sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
