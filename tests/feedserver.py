"""A real HTTP server on 127.0.0.1 (http.server in a thread) serving RSS feeds with ETag and
Last-Modified, answering ``304 Not Modified`` to a matching conditional GET, and recording
every request it sees."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from newsletter.timeutil import utcnow

LAST_MODIFIED = "Sun, 06 Dec 2026 06:00:00 GMT"


@dataclass
class Entry:
    """One item of a served feed."""

    title: str
    link: str
    category: str | None = None
    summary: str = "Un résumé de l'article, assez long pour être lu."
    #: An RFC 822 date (fixed when the entry is made, so that the feed's ETag holds).
    published: str = field(default_factory=lambda: format_datetime(utcnow(), usegmt=True))


@dataclass
class Seen:
    """One request: path, its If-None-Match and If-Modified-Since, the status answered."""

    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int


@dataclass
class FeedServer:
    """Feeds by path; ``status`` forces an answer for a path (500 ...)."""

    feeds: dict[str, list[Entry]] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)
    without_etag: set[str] = field(default_factory=set)  # paths answered without an ETag
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def body(self, path: str) -> bytes:
        items = []
        for entry in self.feeds[path]:
            category = f"<category>{escape(entry.category)}</category>" if entry.category else ""
            published = entry.published
            items.append(
                f"<item><title>{escape(entry.title)}</title><link>{escape(entry.link)}</link>"
                f"<guid>{escape(entry.link)}</guid>{category}"
                f"<description>{escape(entry.summary)}</description>"
                f"<pubDate>{published}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {escape(path)}</title><link>http://example.org{escape(path)}</link>"
            f"<language>fr</language>{''.join(items)}</channel></rss>"
        ).encode()

    def polls(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]


@contextmanager
def serving_feeds() -> Iterator[FeedServer]:
    """A :class:`FeedServer` listening on a free loopback port while the block runs."""
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path
            inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            with state.lock:
                forced = state.status.get(path)
                body = state.body(path) if path in state.feeds and not forced else None
            status = forced or (404 if body is None else 200)
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"' if body is not None else None
            if status == 200 and etag is not None and inm == etag:
                status = 304
            elif status == 200 and inm is None and ims is not None and ims == LAST_MODIFIED:
                status = 304  # an exact match: the feed's date never changes here
            with state.lock:
                state.seen.append(Seen(path, inm, ims, status))
            self.send_response(status)
            if status in (200, 304) and etag is not None:
                if path not in state.without_etag:
                    self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            if status == 200 and body is not None:
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
