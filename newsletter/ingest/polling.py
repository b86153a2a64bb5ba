"""The newsroom's sources and their polling: register, list, remove, and poll the due ones.

A poll is a conditional GET (the ETag and Last-Modified of the last answer: a ``304 Not
Modified`` costs no parsing and no write but the source's health), bounded by the feed
timeout and size limit, then the entries go through the usual path (``parse_feed`` with the
source's time zone and language, the section aliases, ``store_records``). One source failing
never stops the others. After failures the source waits longer: ``n`` failures in a row put
its next poll ``min(every x 2^n, 6 h)`` ahead (never less than ``every``), so a broken feed
with the default 15 minutes is tried again after 30, 60, 120, 240 minutes, then every 6
hours, until it answers again.

Two processes never fetch one source at the same moment: the due sources are claimed first
(:func:`newsletter.store.sources.claim_due`), the claim lasting ``2 x timeout + 60`` seconds.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.checks import feed_url
from newsletter.config.edition import SourceSetting
from newsletter.config.options import PollOptions
from newsletter.errors import ConfigError, UsageError
from newsletter.ingest.feeds import SourceError, parse_feed, read_source
from newsletter.ingest.run import SourceReport, store_records
from newsletter.ingest.sections import alias_table, with_section
from newsletter.store.db import transaction
from newsletter.store.models import Source
from newsletter.store.sources import (
    PollResult,
    SourceRecord,
    add_source,
    claim_due,
    get_source,
    list_sources,
    record_poll,
    remove_source,
    sources_by_id,
)
from newsletter.textutil import slugify
from newsletter.timeutil import UnknownTimeZone, get_zone, utcnow

#: The longest wait between two polls of a failing source (seconds).
BACKOFF_CAP_SECONDS = 6 * 3600
#: A source failing this long is worth an alert to the editors.
FAILING_ALERT_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class SourceView:
    """A source and its health, as commands and pages show it. ``last_status`` is ``"200"``
    after a fetch, ``"not_modified"`` after a 304, else an error word (``http_500``,
    ``timeout``, ``unreachable``, ``too_large``, ``not_a_feed``...), None before the first
    poll; times are aware UTC."""

    id: int
    url: str
    name: str | None
    section: str | None
    language: str | None
    timezone: str | None
    every_minutes: float
    last_polled: datetime | None
    last_status: str | None
    new: int
    updated: int
    unreadable_dates: int
    error: str | None
    failures: int
    failing_since: datetime | None
    next_poll: datetime

    @classmethod
    def of(cls, row: Source, every_minutes: float) -> SourceView:
        """The view of a ``sources`` row; ``every_minutes`` when the row names no interval."""
        return cls(
            row.id, row.url, row.name, row.section, row.language, row.timezone,
            row.every_minutes or every_minutes, row.last_polled_at, row.last_status, row.last_new,
            row.last_updated, row.last_unreadable_dates, row.last_error, row.failures,
            row.failing_since, row.next_poll_at,
        )  # fmt: skip

    def as_dict(self) -> dict[str, object]:
        """The JSON of ``sources list --json`` and ``sources poll --json``: id, url, name,
        section, last_polled (UTC ISO 8601 or None), last_status (200, "not_modified", an
        error word or None), new, updated, unreadable_dates, error."""
        status: object = self.last_status
        if status == "200":
            status = 200
        return {
            "id": self.id, "url": self.url, "name": self.name, "section": self.section,
            "last_polled": self.last_polled.isoformat().replace("+00:00", "Z")
            if self.last_polled else None,
            "last_status": status, "new": self.new, "updated": self.updated,
            "unreadable_dates": self.unreadable_dates, "error": self.error,
        }  # fmt: skip


def backoff(every_minutes: float, failures: int) -> timedelta:
    """The wait before the next poll of a source polled every ``every_minutes`` after
    ``failures`` in a row: ``every`` when none, else ``min(every x 2^failures, 6 h)`` but
    never less than ``every``."""
    every = every_minutes * 60
    if failures <= 0:
        return timedelta(seconds=every)
    grown = every * 2 ** min(failures, 20)
    return timedelta(seconds=max(every, min(grown, BACKOFF_CAP_SECONDS)))


def new_owner() -> str:
    """A name for this process's claims: ``host:pid:token``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Sources:
    """The sources in the store behind ``factory``, polled with ``options`` over ``client``
    (a new one per poll when None). ``clock`` gives the aware UTC time; ``owner`` names
    this process's claims."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        options: PollOptions,
        client: httpx.Client | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        self.factory, self.options, self.client = factory, options, client
        self.clock = clock
        self.owner = owner or new_owner()
        self.aliases = alias_table(options.section_aliases)

    # --- the list ------------------------------------------------------------------------
    def add(
        self,
        url: str,
        *,
        name: str | None = None,
        section: str | None = None,
        language: str | None = None,
        timezone: str | None = None,
        every: float | None = None,
    ) -> tuple[SourceView, bool]:
        """Register the feed at ``url`` (polled first at the next poll); an URL already
        registered takes the new values. Returns the source and True when it is new.

        Raises :class:`UsageError` for an URL that is not a well-formed http(s) URL, an
        unknown time zone, a language that is not a two- or three-letter code, or an
        interval that is not above 0."""
        try:
            url = feed_url(url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if timezone is not None:
            try:
                get_zone(timezone)
            except UnknownTimeZone as exc:
                raise UsageError(str(exc)) from None
        if language is not None:
            language = language.strip().lower()
            if not language.isalpha() or not 2 <= len(language) <= 3:
                raise UsageError(f"a language is a two- or three-letter code, got {language!r}")
        if every is not None and not 0 < every <= 10080:
            raise UsageError(f"--every: minutes between polls, 1 to 10080, got {every:g}")
        record = SourceRecord(
            url=url, every_minutes=every,
            name=(name or "").strip() or None,
            section=slugify(section) if section and slugify(section) else None,
            language=language, timezone=timezone,
        )  # fmt: skip
        with transaction(self.factory) as session:
            row, created = add_source(session, record, self.clock())
            return SourceView.of(row, self.options.every_minutes), created

    def register(self, configured: Iterable[SourceSetting]) -> int:
        """Register the ``[[sources]]`` of the configuration (idempotent by URL: a known
        one takes the file's values, its health and schedule stay). Returns how many were
        new. Raises :class:`ConfigError` for a bad entry."""
        added = 0
        for entry in configured:
            try:
                _, created = self.add(
                    entry.url, name=entry.name, section=entry.section, language=entry.language,
                    timezone=entry.timezone, every=entry.every,
                )  # fmt: skip
            except UsageError as exc:
                raise ConfigError(f"[[sources]] {entry.url}: {exc}") from None
            added += created
        return added

    def registered(self) -> list[SourceView]:
        """Every source, by id."""
        with self.factory() as session:
            return [SourceView.of(row, self.options.every_minutes) for row in list_sources(session)]

    def get(self, source_id: int) -> SourceView | None:
        """The source ``source_id``, or None."""
        with self.factory() as session:
            row = get_source(session, source_id)
            return SourceView.of(row, self.options.every_minutes) if row else None

    def remove(self, source_id: int) -> bool:
        """Forget the source ``source_id`` (its articles stay); True if it existed."""
        with transaction(self.factory) as session:
            return remove_source(session, source_id)

    # --- polling -------------------------------------------------------------------------
    def poll(self, *, every: bool = False) -> list[SourceView]:
        """Poll the sources due now (all of them with ``every``) that no other process is
        polling; returns them after their poll. Never raises for a broken source: its
        ``last_status`` and ``error`` say why."""
        now = self.clock()
        lease = now + timedelta(seconds=2 * self.options.timeout + 60)
        with transaction(self.factory) as session:
            # Read after the commit (the factory does not expire them): plain values.
            claimed = claim_due(session, self.owner, now, lease, every=every)
        if not claimed:
            return []
        own_client = self.client is None
        client = self.client or httpx.Client()
        try:
            for row in claimed:
                self._poll_one(client, row)
        finally:
            if own_client:
                client.close()
        with self.factory() as session:
            return [
                SourceView.of(row, self.options.every_minutes)
                for row in sources_by_id(session, [row.id for row in claimed])
            ]

    def _poll_one(self, client: httpx.Client, source: Source) -> None:
        """Fetch, parse and store ``source`` (a claimed row), then record how it went."""
        o = self.options
        every = source.every_minutes or o.every_minutes
        polled_at = self.clock()
        result: PollResult
        try:
            raw = read_source(
                source.url, client=client, timeout=o.timeout, max_bytes=o.max_bytes,
                etag=source.etag, last_modified=source.last_modified,
            )  # fmt: skip
            if raw.not_modified:
                result = PollResult(
                    "not_modified", polled_at, polled_at + backoff(every, 0),
                    etag=raw.etag, last_modified=raw.last_modified,
                )  # fmt: skip
            else:
                zone = get_zone(source.timezone) if source.timezone else o.zone
                feed = parse_feed(
                    raw, source.url, zone=zone, fetched_at=polled_at,
                    default_language=source.language, regular=True,
                )  # fmt: skip
                records = [with_section(r, self.aliases, source.section) for r in feed.records]
                report = SourceReport(source=source.url, name=feed.name)
                report.unreadable_dates = feed.unreadable_dates
                store_records(self.factory, report, records)
                result = PollResult(
                    "200", polled_at, polled_at + backoff(every, 0), new=report.new,
                    updated=report.updated, unreadable_dates=report.unreadable_dates,
                    etag=raw.etag, last_modified=raw.last_modified,
                )  # fmt: skip
        except SourceError as exc:
            result = PollResult(
                exc.kind, polled_at, polled_at + backoff(every, source.failures + 1),
                error=str(exc),
            )  # fmt: skip
        except Exception as exc:  # a broken source never stops the others
            result = PollResult(
                "error", polled_at, polled_at + backoff(every, source.failures + 1),
                error=f"{type(exc).__name__}: {exc}",
            )  # fmt: skip
        with transaction(self.factory) as session:
            record_poll(session, source.id, self.owner, result)

    def failing_for_a_day(self, sources: Iterable[SourceView]) -> list[SourceView]:
        """Those of ``sources`` failing since a day or more (worth an alert)."""
        now = self.clock()
        return [
            s for s in sources
            if s.failing_since is not None and now - s.failing_since >= FAILING_ALERT_AFTER
        ]  # fmt: skip
