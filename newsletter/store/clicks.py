"""Clicks (tables ``click_counts`` and ``reader_clicks``): the redirect's targets and
counts, and the clicks of an edition for its report.

A click adds one to the (edition, item) row in one statement (``INSERT ... ON CONFLICT DO
UPDATE``, on SQLite and PostgreSQL alike), so that concurrent clicks never lose a count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.store.models import ClickCount, Edition, EditionItem, ReaderClick, Subscriber


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
