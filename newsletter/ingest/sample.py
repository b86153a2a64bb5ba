"""The project's own sample data (``newsletter/sample/``), used by ``newsletter demo``.

Articles carry ``minutes_before`` instead of a date: loading anchors them before the
edition's send time (or now, if that is earlier), so that the demo always finds "today's"
articles whatever the day it runs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from newsletter.ingest.urls import canonical_key, clean_url
from newsletter.store.articles import ArticleRecord

SAMPLE_SOURCE = "sample:articles.json"


def sample_dir() -> Path:
    """The directory holding ``articles.json`` and ``subscribers.csv``."""
    return Path(str(resources.files("newsletter") / "sample"))


def load_sample_articles(
    anchor: datetime, path: Path | None = None, zone: ZoneInfo | None = None
) -> list[ArticleRecord]:
    """The sample articles, each published ``minutes_before`` minutes before ``anchor``
    (an aware UTC datetime), with URLs dated by the anchor's local date in ``zone``.
    Raises ``ValueError`` (or ``KeyError``) for a malformed file."""
    path = path or sample_dir() / "articles.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    source = document.get("source", {})
    records = []
    day = anchor.astimezone(zone).date() if zone else anchor.date()
    for position, item in enumerate(document["articles"]):
        # Today's sample articles are new articles: the date goes into the path, as on a
        # news site, so that yesterday's demo edition does not claim them.
        parts = urlsplit(item["url"])
        url = clean_url(
            urlunsplit((parts.scheme, parts.netloc, f"/{day:%Y/%m/%d}{parts.path}", "", ""))
        )
        if not url:
            raise ValueError(f"{path}: article {position + 1} has no http(s) url")
        tags = [str(tag) for tag in item.get("tags", [])]
        records.append(
            ArticleRecord(
                url=url,
                url_key=canonical_key(url),
                guid=url,
                source=SAMPLE_SOURCE,
                source_name=source.get("name"),
                title=item["title"].strip(),
                summary=item.get("lead", "").strip(),
                body=item.get("body", "").strip(),
                category=item.get("category"),
                tags=tags,
                author=item.get("author"),
                language=source.get("language", "fr"),
                published_at=anchor - timedelta(minutes=int(item["minutes_before"])),
                feed_position=position,
                featured=bool(item.get("featured", False)),
            )
        )
    return records
