"""An edition's report (``newsletter report``, the editors' pages, ``/api/v1/reports``) and
the newsroom's 30-day view: what the store says after a send, in one shape.

The report's JSON is a contract (README "Reports and clicks"): ``date``, ``recipients``
(delivery rows frozen at release), ``sent``, ``failed``, ``bounced``, ``complained``,
``unsubscribed`` (recipients who did so between this release and the next one, see
:mod:`newsletter.store.reports`), ``in_doubt`` (deliveries handed over by a worker that
died: they may or may not have arrived, as ``newsletter status`` counts them) and
``clicks`` (``total`` and ``by_item``: ``article_id``, ``title``, ``url``, ``clicks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.status import SendingStatus, sending_status
from newsletter.deliver.worker import is_dead
from newsletter.store.clicks import ItemClicks, edition_clicks
from newsletter.store.editions import get_edition
from newsletter.store.progress import send_figures
from newsletter.store.reports import DayFigures, Failure, daily_figures, edition_reactions, failures


@dataclass(frozen=True)
class Report:
    """An edition's figures (see the module docstring); ``by_item`` most clicked first."""

    day: date
    recipients: int
    sent: int
    failed: int
    bounced: int
    complained: int
    unsubscribed: int
    in_doubt: int
    by_item: tuple[ItemClicks, ...]

    @property
    def clicks(self) -> int:
        """Clicks on every item's links."""
        return sum(item.clicks for item in self.by_item)

    def as_json(self) -> dict[str, Any]:
        """The report's JSON document (a contract: keys and types kept)."""
        return {
            "date": self.day.isoformat(),
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "bounced": self.bounced,
            "complained": self.complained,
            "unsubscribed": self.unsubscribed,
            "in_doubt": self.in_doubt,
            "clicks": {
                "total": self.clicks,
                "by_item": [
                    {
                        "article_id": item.article_id,
                        "title": item.title,
                        "url": item.url,
                        "clicks": item.clicks,
                    }
                    for item in self.by_item
                ],
            },
        }


class Reports:
    """Reads reports from ``sessions``; ``newsletter``: the edition's newsletter
    (``default`` for the daily one)."""

    def __init__(self, sessions: sessionmaker[Session], newsletter: str = "default") -> None:
        self.sessions, self.newsletter = sessions, newsletter

    def report(self, day: date) -> Report | None:
        """The :class:`Report` of the edition of ``day``, or None when there is none (a
        draft has one too: every figure is then 0)."""
        with self.sessions() as session:
            edition = get_edition(session, day, self.newsletter)
            if edition is None:
                return None
            edition_id, status, reason = edition.id, edition.status, edition.paused_reason
            reactions = edition_reactions(session, edition)
            by_item = tuple(edition_clicks(session, edition_id))
        now = sending_status(status, reason, send_figures(self.sessions, edition_id), is_dead)
        counts = now.counts
        return Report(
            day=day,
            recipients=sum(counts.values()),
            sent=counts.get("sent", 0),
            failed=counts.get("failed", 0),
            bounced=reactions.bounced,
            complained=reactions.complained,
            unsubscribed=reactions.unsubscribed,
            in_doubt=now.in_doubt,
            by_item=by_item,
        )

    def days(self, end: date, days: int = 30) -> list[DayFigures]:
        """The newsroom's figures per day for the ``days`` days ending with ``end``."""
        with self.sessions() as session:
            return daily_figures(session, end, days)

    def live(self, day: date) -> tuple[SendingStatus, list[Failure]] | None:
        """The send of ``day``'s edition as ``newsletter status`` computes it, with its
        failed and deferred deliveries and their reasons; None without an edition."""
        with self.sessions() as session:
            edition = get_edition(session, day, self.newsletter)
            if edition is None:
                return None
            edition_id, status, reason = edition.id, edition.status, edition.paused_reason
            failed = failures(session, edition_id)
        figures = send_figures(self.sessions, edition_id)
        return sending_status(status, reason, figures, is_dead), failed
