"""Feeds: read a source's bytes (URL or file) and normalise its entries with feedparser.

feedparser is handed raw bytes so that it detects the encoding itself (XML declaration, BOM,
HTTP header), which covers RSS 0.9x/1.0/2.0 and Atom 0.3/1.0.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
import httpx

from newsletter import __version__
from newsletter.ingest.dates import read_date
from newsletter.ingest.language import resolve_language
from newsletter.ingest.urls import canonical_key, clean_url
from newsletter.store.articles import ArticleRecord
from newsletter.textutil import html_to_text, plain_line, truncate_words

USER_AGENT = f"newsletter/{__version__} (+self-hosted daily briefing; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
MAX_BODY_CHARS = 200_000
MAX_TITLE_CHARS = 300
#: How far ahead of the time seen a publication time may be and still be the source's clock
#: running fast; further ahead it is a feed's error, not news from the future.
CLOCK_SKEW = timedelta(minutes=15)

# A date string that ends with a zone: Z, +hh:mm, +hhmm, or an RFC 822 zone name.
_ZONE_AT_END = re.compile(
    r"(?:Z|[+-]\d{2}:?\d{2}|\b(?:UT|UTC|GMT|[ECMP][SD]T)|\b[A-IK-Z])\s*$", re.IGNORECASE
)
# An entry element's opening and closing tags, to tell where a truncated document was cut.
_ENTRY_OPEN = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>/]")
_ENTRY_CLOSE = re.compile(rb"</(?:\w+:)?(?:item|entry)\s*>")
_ENTITY_ONLY = re.compile(r"(?:&[#\w]+;\s*)+")
# "Continue reading...", "Lire la suite" and the like, closing a syndicated description.
_READ_MORE = re.compile(
    r"\s*(?:Continue reading|Read more|Lire la suite|Lire plus|En savoir plus)\s*(?:…|\.\.\.)?\s*$",
    re.IGNORECASE,
)
# WordPress appends "The post X appeared first on Y." to syndicated descriptions.
_WP_FOOTER = re.compile(r"\s*The post .{1,400}? appeared first on .{1,200}?\.?\s*$", re.S)
_TRAILING_MORE = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|\[&hellip;\])\s*$")


class SourceError(Exception):
    """A source cannot be read or is not a feed; the message is the reason for the report,
    ``kind`` one word for it: ``http_<status>``, ``timeout``, ``unreachable``,
    ``too_large``, ``not_a_feed`` or ``unreadable``."""

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class SourceData:
    """Raw bytes of a source and the URL relative links resolve against (if any)."""

    data: bytes
    base_url: str | None
    content_type: str | None = None
    #: The answer's validators, for the next conditional GET (RFC 9110 section 13.1).
    etag: str | None = None
    last_modified: str | None = None
    #: True when the server answered 304 Not Modified: ``data`` is empty, nothing changed.
    not_modified: bool = False


@dataclass
class ParsedFeed:
    """A feed's normalised entries, its name and what was rejected or doubtful."""

    name: str | None
    records: list[ArticleRecord]
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Entries kept whose date could not be read at all (they carry the time first seen;
    #: see :func:`parse_feed`).
    unreadable_dates: int = 0


def is_url(source: str) -> bool:
    """True for an ``http://`` or ``https://`` source, False for a file path."""
    return source.lower().startswith(("http://", "https://"))


def read_source(
    source: str,
    *,
    client: httpx.Client | None = None,
    timeout: float = 20.0,
    max_bytes: int = 20_000_000,
    etag: str | None = None,
    last_modified: str | None = None,
) -> SourceData:
    """The bytes of ``source``: a feed URL fetched with httpx (following redirects, with a
    ``timeout`` in seconds and at most ``max_bytes``), or a file path.

    With ``etag`` or ``last_modified`` (the validators of an earlier answer) the GET is
    conditional (``If-None-Match``, ``If-Modified-Since``; RFC 9110 sections 13.1.2 and
    13.1.3): a ``304 Not Modified`` answer gives ``not_modified=True`` and no bytes.

    Raises :class:`SourceError` for an unreachable URL, an HTTP error status, a file that
    does not exist or is unreadable, or a body over ``max_bytes``.
    """
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) and not is_url(source):
        scheme = source.split("://", 1)[0]
        raise SourceError(f"unsupported scheme {scheme!r}: give an http(s) URL or a file path")
    if not is_url(source):
        path = Path(source)
        try:
            if path.stat().st_size > max_bytes:
                raise SourceError(f"file larger than {max_bytes} bytes")
            return SourceData(path.read_bytes(), base_url=None)
        except FileNotFoundError:
            raise SourceError("no such file") from None
        except IsADirectoryError:
            raise SourceError("is a directory, not a feed file") from None
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    own_client = client is None
    client = client or httpx.Client()
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream(
            "GET", source, timeout=timeout, follow_redirects=True, headers=headers
        ) as response:
            validators = {
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
            }
            if response.status_code == 304:
                return SourceData(b"", str(response.url), None, not_modified=True, **validators)
            if response.status_code >= 400:
                raise SourceError(
                    f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                    f"http_{response.status_code}",
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                if time.monotonic() > deadline:  # a slow drip never ends the read timeout
                    raise SourceError(f"timed out after {timeout:g} s", "timeout")
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(f"response larger than {max_bytes} bytes", "too_large")
                chunks.append(chunk)
            return SourceData(
                b"".join(chunks), str(response.url), response.headers.get("content-type"),
                **validators,
            )  # fmt: skip
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {timeout:g} s", "timeout") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise SourceError(f"cannot fetch: {exc.__class__.__name__}: {exc}", "unreachable") from None
    finally:
        if own_client:
            client.close()


def parse_feed(
    raw: SourceData,
    source: str,
    *,
    zone: ZoneInfo,
    fetched_at: datetime,
    default_language: str | None = None,
    regular: bool = False,
) -> ParsedFeed:
    """Normalise the entries of a feed.

    - Titles are plain text (tags and entities removed, double-escaped entities decoded).
    - Links are absolute (relative ones resolved against the fetched URL, else the feed's own
      link) with tracking parameters removed; an entry without one is rejected.
    - Publication times are aware UTC, read by :func:`newsletter.ingest.dates.read_date`
      (RFC 822/5322 with French, English or German names, ISO 8601, ``YYYY/MM/DD``,
      ``DD/MM/YYYY``, named zones), else by feedparser's own parse. A time without a zone
      is wall time in ``zone`` (the source's; by default the newsletter's).
    - A time more than :data:`CLOCK_SKEW` after ``fetched_at`` (aware UTC, the time the
      source was read) is replaced by ``fetched_at`` and flagged ``published_estimated``;
      a time within it is clamped to ``fetched_at``: no article is dated in the future.
    - An entry whose date cannot be read at all (none, or none of the forms) is counted in
      ``unreadable_dates``. ``regular`` says whether the source is polled regularly: then
      such an entry is new news there (it was not in the previous poll, minutes ago), so it
      gets ``fetched_at``, flagged ``published_estimated`` (the store keeps the time first
      seen when it comes again), and a warning counts them. From a source read once (False:
      a file or URL given to ``newsletter ingest``) nothing says how old it is: it is
      rejected, named in ``rejected`` with its date string, never dated "now".
    - In a truncated document (cut inside its last entry), that last entry is rejected
      when its date cannot be read, whatever ``regular``: its date may be what the cut
      lost, and it comes whole with the next read.

    Raises :class:`SourceError` when the bytes are not a feed at all.
    """
    headers: dict[str, str] = {}
    if raw.base_url:
        headers["content-location"] = raw.base_url
    if raw.content_type:
        headers["content-type"] = raw.content_type
    parsed = feedparser.parse(raw.data, response_headers=headers, sanitize_html=True)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        if parsed.get("bozo"):
            reason = str(parsed.get("bozo_exception") or "malformed")
            raise SourceError(f"not a feed (malformed XML: {reason})", "not_a_feed")
        raise SourceError("not a feed (no RSS or Atom structure found)", "not_a_feed")
    meta = parsed.feed
    feed_link = clean_url(meta.get("link", ""), raw.base_url) or raw.base_url
    name = source_label(plain_line(meta.get("title", "")), feed_link)
    language = _language(meta.get("language")) or default_language
    result = ParsedFeed(name=name, records=[])
    if parsed.get("bozo") and parsed.entries:
        result.warnings.append(f"not well-formed, read anyway: {parsed.get('bozo_exception')}")
    cut = len(parsed.entries) - 1 if parsed.get("bozo") and _cut_inside_entry(raw.data) else -1
    future = 0
    unreadable: list[str] = []
    for position, entry in enumerate(parsed.entries):
        label = plain_line(entry.get("title", "")) or entry.get("id") or f"#{position + 1}"
        label = f"entry {position + 1} ({truncate_words(label, 60)})"
        published = _published(entry, zone)
        try:
            record = _record(
                entry, position, source=source, name=name, base=feed_link,
                published=published, fetched_at=fetched_at, language=language,
                cut=position == cut,
            )  # fmt: skip
        except ValueError as exc:
            result.rejected.append(f"{label}: {exc}")
            continue
        if published is None:
            text = _date_text(entry) or "none"
            unreadable.append(f"{label}: {text}")
            if not regular:  # read once, nothing says how old it is
                result.rejected.append(
                    f"{label}: no date that can be read ({text}); a source read once cannot "
                    "tell how old the entry is (a registered source dates it when it appears)"
                )
                continue
        elif record.published_estimated:
            future += 1
        result.records.append(record)
    result.unreadable_dates = len(unreadable)
    if unreadable and regular:
        count = len(unreadable)
        result.warnings.append(
            f"{count} {'entry' if count == 1 else 'entries'} without a date that can be read, "
            "first-seen time used"
        )
    if future:
        result.warnings.append(
            f"{future} {'entry' if future == 1 else 'entries'} dated in the future: "
            "first-seen time used"
        )
    return result


def _cut_inside_entry(data: bytes) -> bool:
    """True when the document ends inside an entry: its last entry opens after the last
    entry closes (a truncated download or file)."""
    opened = [m.start() for m in _ENTRY_OPEN.finditer(data)]
    closed = [m.start() for m in _ENTRY_CLOSE.finditer(data)]
    return bool(opened) and (not closed or opened[-1] > closed[-1])


_GENERIC = re.compile(
    r"\s*[-|–—:]?\s*\b(?:article feed|rss feed|atom feed|flux rss|rss|feed|atom)\b\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\s+[-|–—]\s+")
SOURCE_LABEL_MAX = 32


def source_label(title: str, link: str | None) -> str | None:
    """A short name for a feed, as readers see it next to each item: the title without
    generic words ("TelQuel - Article Feed" -> "TelQuel"), its first part when long
    ("France 24 - Infos, news & actualités - ..." -> "France 24"), else the site's host."""
    title = _GENERIC.sub("", title).strip(" -|–—:")
    if title and len(title) <= SOURCE_LABEL_MAX:
        return title
    first = _SEPARATOR.split(title)[0].strip() if title else ""
    if 3 <= len(first) <= SOURCE_LABEL_MAX:
        return first
    host = urlsplit(link or "").netloc.lower().removeprefix("www.")
    return host or (truncate_words(title, SOURCE_LABEL_MAX) if title else None)


def _record(
    entry: Any,
    position: int,
    *,
    source: str,
    name: str | None,
    base: str | None,
    published: datetime | None,
    fetched_at: datetime,
    language: str | None,
    cut: bool,
) -> ArticleRecord:
    link = clean_url(entry.get("link", ""), base)
    guid = (entry.get("id") or "").strip() or None
    if not link and guid and entry.get("guidislink", False):
        link = clean_url(guid, base)
    if not link:
        raise ValueError("no usable link")
    summary = _summary(entry)
    body = _body(entry)
    title = truncate_words(plain_line(entry.get("title", "")), MAX_TITLE_CHARS)
    if not title:
        title = truncate_words(plain_line(summary or body), 110)
    if not title or not re.search(r"\w", title) or _ENTITY_ONLY.fullmatch(title):
        raise ValueError("no readable title")
    if published is None and cut:
        raise ValueError("cut off where the feed ends, with no date that can be read")
    estimated = published is None or published > fetched_at + CLOCK_SKEW
    published = fetched_at if published is None or estimated else min(published, fetched_at)
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        term = plain_line(tag.get("term") or tag.get("label") or "")
        if term and term not in tags:
            tags.append(term)
    author = plain_line(entry.get("author", "")) or None
    return ArticleRecord(
        url=link,
        url_key=canonical_key(link),
        guid=guid,
        source=source,
        source_name=name,
        title=title,
        summary=summary,
        body=body[:MAX_BODY_CHARS],
        category=tags[0] if tags else None,
        tags=tags,
        author=author,
        language=resolve_language(
            _language(entry.get("language")), language, f"{title}. {summary or body[:1000]}"
        ),
        image_url=_image(entry, base),
        published_at=published,
        published_estimated=estimated,
        feed_position=position,
    )


def _summary(entry: Any) -> str:
    text = html_to_text(entry.get("summary", "") or "")
    text = _READ_MORE.sub("", _WP_FOOTER.sub("", text))
    return _TRAILING_MORE.sub("…", text).strip()


def _body(entry: Any) -> str:
    contents = entry.get("content") or []
    best = max((c.get("value", "") for c in contents), key=len, default="")
    return _WP_FOOTER.sub("", html_to_text(best)).strip()


_DATE_KEYS = ("published", "updated", "created")


def _published(entry: Any, zone: ZoneInfo) -> datetime | None:
    """The entry's publication time (aware UTC) from its first date that can be read
    (published, then updated, then created), or None."""
    for key in _DATE_KEYS:
        # dict.get: feedparser's own get maps a missing "updated" to "published" with a
        # deprecation warning.
        raw = str(dict.get(entry, key) or "").strip()
        published = read_date(raw, zone) if raw else None
        if published is not None:
            return published
        parsed = dict.get(entry, f"{key}_parsed")
        if not parsed:
            continue
        if raw and not _ZONE_AT_END.search(raw):
            # feedparser read the wall time as UTC; it is the source's local time.
            wall = datetime(*parsed[:6])
            return wall.replace(tzinfo=zone).astimezone(UTC)
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _date_text(entry: Any) -> str:
    """The entry's first date string, quoted for a report ('' when it has none)."""
    for key in _DATE_KEYS:
        raw = plain_line(str(dict.get(entry, key) or ""))
        if raw:
            return repr(truncate_words(raw, 60))
    return ""


def _language(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    primary = value.strip().split("-")[0].split("_")[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _image(entry: Any, base: str | None) -> str | None:
    candidates = [m.get("url") for m in entry.get("media_content") or [] if m.get("url")]
    candidates += [m.get("url") for m in entry.get("media_thumbnail") or [] if m.get("url")]
    candidates += [
        e.get("href") for e in entry.get("enclosures") or []
        if str(e.get("type", "")).startswith("image/") and e.get("href")
    ]  # fmt: skip
    for candidate in candidates:
        url = clean_url(candidate, base)
        if url:
            return url
    return None
