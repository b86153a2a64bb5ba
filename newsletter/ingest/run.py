"""Ingest sources into the store and report per source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Settings
from newsletter.ingest.feeds import SourceError, is_url, parse_feed, read_source
from newsletter.ingest.sample import SAMPLE_SOURCE, load_sample_articles
from newsletter.ingest.sections import alias_table, with_section
from newsletter.store.articles import (
    ArticleRecord,
    count_articles_not_from,
    stored_url_keys,
    upsert_articles,
)
from newsletter.store.db import transaction
from newsletter.store.subscribers import count_subscribers_not_from
from newsletter.timeutil import local_datetime, utcnow


@dataclass
class SourceReport:
    """What one source gave: counts, rejected entries, warnings, or why it failed."""

    source: str
    name: str | None = None
    new: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: str | None = None  # the reason the whole source failed
    #: Entries whose date could not be read in any form: dated with the time first seen and
    #: flagged estimated (:func:`newsletter.ingest.feeds.parse_feed`; a one-off ingest also
    #: names each one in ``warnings``).
    unreadable_dates: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: source, name, new, updated, skipped, errors, warnings, failed,
        unreadable_dates."""
        return {
            "source": self.source, "name": self.name, "new": self.new, "updated": self.updated,
            "skipped": self.skipped, "errors": self.errors, "warnings": self.warnings,
            "failed": self.failed, "unreadable_dates": self.unreadable_dates,
        }  # fmt: skip


def store_records(
    factory: sessionmaker[Session], report: SourceReport, records: list[ArticleRecord]
) -> None:
    """Upsert ``records`` in one transaction and add the counts to ``report``."""
    with transaction(factory) as session:
        counts = upsert_articles(session, records)
    report.new += counts.new
    report.updated += counts.updated
    report.skipped += counts.skipped


def ingest_sources(
    sources: Iterable[str],
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    regular: bool = False,
) -> list[SourceReport]:
    """Read, parse and store each source (categories mapped by the section aliases); a
    broken source is reported and the rest still load.

    ``regular``: the sources are polled regularly, so an entry whose date cannot be read is
    new news and takes the time first seen; False (a one-off ``newsletter ingest``) rejects
    it (see :func:`newsletter.ingest.feeds.parse_feed`). Never raises for a bad source: its
    :class:`SourceReport` has ``failed`` set.
    """
    reports = []
    aliases = alias_table(settings.section_aliases)
    own_client = client is None
    client = client or httpx.Client()
    try:
        for source in sources:
            report = SourceReport(source=source)
            reports.append(report)
            try:
                raw = read_source(
                    source, client=client if is_url(source) else None,
                    timeout=settings.feed_timeout, max_bytes=settings.feed_max_bytes,
                )  # fmt: skip
                feed = parse_feed(
                    raw, source, zone=settings.zone, fetched_at=utcnow(),
                    default_language=None, regular=regular,
                )  # fmt: skip
            except SourceError as exc:
                report.failed = str(exc)
                continue
            report.name = feed.name
            report.errors.extend(feed.rejected)
            report.warnings.extend(feed.warnings)
            report.unreadable_dates += feed.unreadable_dates
            if not feed.records and not feed.rejected:
                report.warnings.append("the feed has no entries")
            records = [with_section(r, aliases, None) for r in feed.records]
            store_records(factory, report, records)
    finally:
        if own_client:
            client.close()
    return reports


def ingest_sample(
    factory: sessionmaker[Session], day: date, send_time: time, zone: ZoneInfo,
    now: datetime | None = None,
) -> SourceReport:  # fmt: skip
    """Load the sample articles dated before ``day``'s send time in ``zone`` (or before
    ``now``, when that comes first), so that the edition of ``day`` finds them."""
    send_at = local_datetime(day, send_time, zone)
    anchor = min(now or utcnow(), send_at) - timedelta(minutes=1)
    report = SourceReport(source=SAMPLE_SOURCE, name="Le Brief (sample)")
    records = load_sample_articles(anchor, zone=zone)
    # Loaded again for the same day (a second demo), the articles are the same ones: they
    # keep the times they were published at rather than moving with the clock.
    with factory() as session:
        stored = stored_url_keys(session, [record.url_key for record in records])
    report.skipped += len(stored)
    store_records(factory, report, [r for r in records if r.url_key not in stored])
    return report


class Ingest:
    """Gathering articles into the store behind ``factory`` with ``settings`` (feed limits,
    the newsletter's language and zone); HTTP through ``client`` (a new one when None)."""

    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, client: httpx.Client | None
    ) -> None:
        self.factory, self.settings, self.client = factory, settings, client

    def sources(self, sources: list[str], *, regular: bool = False) -> list[SourceReport]:
        """Ingest feed URLs or files (see :func:`ingest_sources`; ``regular`` for sources
        polled regularly)."""
        return ingest_sources(
            sources, self.factory, self.settings, client=self.client, regular=regular
        )

    def sample(self, day: date, now: datetime | None = None) -> SourceReport:
        """Load the sample articles for the edition of ``day`` (see :func:`ingest_sample`)."""
        s = self.settings
        return ingest_sample(self.factory, day, s.send_time, s.zone, now)

    def foreign_data(self) -> str | None:
        """What, besides the sample data, the database holds (None if nothing): the demo
        runs only on an empty or demo database."""
        with self.factory() as session:
            articles = count_articles_not_from(session, SAMPLE_SOURCE)
            subscribers = count_subscribers_not_from(session, "demo")
        if articles or subscribers:
            return f"it holds {articles} other articles and {subscribers} other subscribers"
        return None
