"""Clicks (tables ``click_counts`` and ``reader_clicks``): the redirect's targets and
counts, the clicks of an edition for its report, and each section's click-through rate
over recent editions (the ranking's ``readership`` part).

A click adds one to the (edition, item) row in one statement (``INSERT ... ON CONFLICT DO
UPDATE``, on SQLite and PostgreSQL alike), so that concurrent clicks never lose a count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.store.models import (
    ClickCount,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionItem,
    EditionStatus,
    ReaderClick,
    Subscriber,
)


@dataclass(frozen=True)
class ClickTarget:
    """Where a click goes: the item's stored ``url`` (or one of its other sources') and the
    edition's date (for the UTM campaign), with the ids the count is kept under."""

    edition_id: int
    item_id: int
    url: str
    day: date


def click_target(session: Session, edition_id: int, item_id: int, link: int) -> ClickTarget | None:
    """The target of link ``link`` (0: the article; k >= 1: the item's k-th other source)
    of item ``item_id`` of edition ``edition_id``; None when there is no such link."""
    row = session.execute(
        select(EditionItem.url, EditionItem.also, Edition.date)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(EditionItem.id == item_id, EditionItem.edition_id == edition_id)
    ).first()
    if row is None:
        return None
    url, also, day = row
    if link:
        if link > len(also or ()) or not isinstance(also[link - 1].get("url"), str):
            return None
        url = also[link - 1]["url"]
    return ClickTarget(edition_id, item_id, url, day)


def count_click(
    session: Session, edition_id: int, item_id: int, at: datetime, subscriber_id: int | None
) -> None:
    """Add one click to (``edition_id``, ``item_id``) at ``at`` (aware UTC); with
    ``subscriber_id`` (a reader who still exists), also record the reader's click. Does not
    commit."""
    values = {"edition_id": edition_id, "item_id": item_id, "clicks": 1, "last_clicked_at": at}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ClickCount).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["edition_id", "item_id"],
            set_={"clicks": ClickCount.clicks + 1, "last_clicked_at": at},
        )
    )
    if subscriber_id is not None and session.get(Subscriber, subscriber_id) is not None:
        session.add(
            ReaderClick(
                edition_id=edition_id, item_id=item_id, subscriber_id=subscriber_id, clicked_at=at
            )
        )


@dataclass(frozen=True)
class ItemClicks:
    """An item's clicks in an edition: the article's id (None when it was deleted), the
    item's title and URL as sent, and the clicks on its links (every variant summed)."""

    article_id: int | None
    title: str
    url: str
    clicks: int


def edition_clicks(session: Session, edition_id: int) -> list[ItemClicks]:
    """Every item of the edition with its clicks (0 included), the items of personal
    variants merged with the main edition's by article (else by URL); most clicked first,
    then in the main edition's order."""
    rows = session.execute(
        select(
            EditionItem.article_id,
            EditionItem.title,
            EditionItem.url,
            EditionItem.variant,
            EditionItem.position,
            func.coalesce(ClickCount.clicks, 0),
        )
        .outerjoin(
            ClickCount,
            (ClickCount.item_id == EditionItem.id) & (ClickCount.edition_id == edition_id),
        )
        .where(EditionItem.edition_id == edition_id)
        .order_by(EditionItem.variant != "", EditionItem.variant, EditionItem.position)
    ).all()
    merged: dict[int | str, ItemClicks] = {}
    for article_id, title, url, _variant, _position, clicks in rows:
        key = article_id if article_id is not None else url
        seen = merged.get(key)
        merged[key] = (
            ItemClicks(article_id, title, url, int(clicks))
            if seen is None
            else replace(seen, clicks=seen.clicks + int(clicks))
        )
    items = list(merged.values())
    return sorted(items, key=lambda item: -item.clicks)  # stable: main order among ties


def clicks_by_day(session: Session, start: date, end: date) -> dict[date, int]:
    """Clicks per edition date for editions dated in ``[start, end]`` (dates without a
    click are absent)."""
    return {
        day: int(total)
        for day, total in session.execute(
            select(Edition.date, func.sum(ClickCount.clicks))
            .join(ClickCount, ClickCount.edition_id == Edition.id)
            .where(Edition.date >= start, Edition.date <= end)
            .group_by(Edition.date)
        )
    }


def section_click_rates(
    session: Session, before: date, days: int, newsletter: str = "default"
) -> dict[str, float]:
    """Click-through rate of each section over the ``newsletter``'s editions that were sent
    (status ``sent``) and dated in the ``days`` days before ``before`` (``before`` excluded).

    The rate is clicks per item shown to a reader: a section's clicks (every item of the
    section, in every variant, every link) divided by its exposures, the sum over those
    editions of (the main edition's items of the section) x (the edition's deliveries that
    were sent). Per exposure rather than per edition, so that a section that holds more
    items (or an edition that reached more readers) does not look more read for that alone.
    Deliveries do not say which variant a reader got, so the main edition stands for all
    (a variant holds the same or fewer items of a section). A section whose items were shown
    but never clicked has rate 0; a section never shown is absent. A reader may click an
    item more than once, so a rate may exceed 1. Counts only: nobody is named.
    """
    start = before - timedelta(days=days)
    editions = (
        select(Edition.id)
        .where(
            Edition.newsletter == newsletter,
            Edition.status == EditionStatus.SENT,
            Edition.date >= start,
            Edition.date < before,
        )
        .scalar_subquery()
    )
    recipients = dict(
        session.execute(
            select(Delivery.edition_id, func.count())
            .where(Delivery.edition_id.in_(editions), Delivery.status == DeliveryStatus.SENT)
            .group_by(Delivery.edition_id)
        ).all()
    )
    exposures: dict[str, int] = defaultdict(int)
    for edition_id, section, items in session.execute(
        select(EditionItem.edition_id, EditionItem.section, func.count())
        .where(EditionItem.edition_id.in_(editions), EditionItem.variant == "")
        .group_by(EditionItem.edition_id, EditionItem.section)
    ):
        exposures[section or ""] += int(items) * int(recipients.get(edition_id, 0))
    clicks: dict[str, int] = defaultdict(int)
    for section, total in session.execute(
        select(EditionItem.section, func.sum(ClickCount.clicks))
        .join(ClickCount, ClickCount.item_id == EditionItem.id)
        .where(ClickCount.edition_id.in_(editions))
        .group_by(EditionItem.section)
    ):
        clicks[section or ""] += int(total or 0)
    return {
        section: clicks.get(section, 0) / shown
        for section, shown in exposures.items()
        if shown > 0 and section
    }
