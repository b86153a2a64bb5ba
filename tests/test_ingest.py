"""Ingest: real feeds, normalisation, upsert, and bad input that loses nothing."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from newsletter.ingest.feeds import SourceData, SourceError, parse_feed, read_source, source_label
from newsletter.ingest.urls import canonical_key, clean_url
from newsletter.store.articles import ArticleRecord, upsert_article
from newsletter.store.models import Article
from newsletter.textutil import html_to_text
from newsletter.timeutil import get_zone
from newsletter.wiring import App
from tests.conftest import FEEDS, feed

CASABLANCA = get_zone("Africa/Casablanca")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def parse(path: Path, base: str | None = None):
    return parse_feed(
        SourceData(path.read_bytes(), base), str(path), zone=CASABLANCA, fetched_at=NOW
    )


def test_every_real_feed_parses_to_plain_titles_and_absolute_links() -> None:
    if not FEEDS.is_dir():
        pytest.skip("../shared/data/feeds is absent")
    for path in sorted(FEEDS.glob("*.*")):
        if path.suffix == ".tsv":
            continue
        result = parse(path)
        assert result.records, path.name
        for record in result.records:
            assert record.title and not re.search(r"<[a-zA-Z/]|&#?\w+;", record.title), (
                path.name,
                record.title,
            )
            assert record.url.startswith(("http://", "https://")), (path.name, record.url)
            assert record.published_at.tzinfo is not None
            assert "\n" not in record.title


def test_double_escaped_entity_inside_cdata_is_decoded() -> None:
    titles = [r.title for r in parse(feed("fr_laverty-grenoble_medium.rss")).records]
    assert not any("&#39;" in t for t in titles)
    result = parse(feed("fr_laverty-grenoble_medium.rss"))
    assert result.name == "Stories by L'avertY on Medium"
    assert all("source=rss" not in r.url for r in result.records)


def test_relative_links_resolve_against_the_feed() -> None:
    records = parse(feed("en_github-gulp-releases_relative-links.atom")).records
    assert records[0].url.startswith("https://github.com/gulpjs/gulp/releases/tag/")


def test_encodings_and_byte_order_marks() -> None:
    portuguese = parse(feed("pt_jn_ultimas_iso8859-1.rss"))
    assert portuguese.name == "Jornal de Notícias"  # the first part of a long title
    assert len(parse(feed("fr_commitstrip_bom.rss")).records) == 3
    oatmeal = parse(feed("en_oatmeal_rss1-iso8859-1.rdf"))
    assert len(oatmeal.records) == 9


def test_image_nested_in_item_does_not_replace_the_title() -> None:
    records = parse(feed("sk_aktuality.rss")).records
    assert len({r.title for r in records}) == len(records) == 30


def test_french_dates_of_a_real_feed_are_read() -> None:
    # "mar., 13 sept. 2022 16:41:30 +0000": French names with dots, once taken for no date.
    result = parse(feed("fr_commitstrip_bom.rss"))
    assert [r.published_at for r in result.records] == [
        datetime(2022, 9, 13, 16, 41, 30, tzinfo=UTC),
        datetime(2022, 6, 8, 16, 26, 54, tzinfo=UTC),
        datetime(2022, 2, 22, 20, 4, 25, tzinfo=UTC),
    ]
    assert not any(r.published_estimated for r in result.records)
    assert result.unreadable_dates == 0 and not result.warnings


def test_times_are_utc_and_a_time_without_zone_is_local() -> None:
    data = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>Zoned</title><link>https://a.example/1</link>
    <pubDate>Tue, 24 Mar 2026 10:00:00 +0100</pubDate></item>
    <item><title>Naive</title><link>https://a.example/2</link><pubDate>2026-03-24T10:00:00</pubDate></item>
    </channel></rss>"""
    records = parse_feed(
        SourceData(data, None), "t", zone=get_zone("Europe/Paris"), fetched_at=NOW
    ).records
    assert records[0].published_at == datetime(2026, 3, 24, 9, 0, tzinfo=UTC)
    assert records[1].published_at == datetime(2026, 3, 24, 9, 0, tzinfo=UTC)  # Paris, UTC+1
    assert not records[1].published_estimated


def test_wordpress_footer_and_html_are_removed_from_summaries() -> None:
    records = parse(feed("ar_hespress_regenerated.rss")).records
    assert all("appeared first on" not in r.summary for r in records)
    assert (
        html_to_text("<p>Un &amp; deux</p><p>trois&nbsp;:</p><script>x()</script>")
        == "Un & deux\n\ntrois\u00a0:"
    )


def test_canonical_key_ignores_tracking_scheme_www_and_trailing_slash() -> None:
    key = canonical_key("https://www.example.ma/a/b/")
    assert canonical_key("http://example.ma/a/b?utm_source=x&fbclid=1") == key
    assert canonical_key("http://example.ma/a/b?CMP=share_btn_tw&at_medium=RSS") == key
    assert canonical_key("http://example.ma/a/b?ns_campaign=bbc&ocid=msn") == key
    assert canonical_key("https://example.ma/a/b#top") == key
    assert canonical_key("https://example.ma/a/c") != key
    assert (
        clean_url("/x?utm_medium=rss&id=3", "https://example.ma/feed")
        == "https://example.ma/x?id=3"
    )
    assert clean_url("javascript:alert(1)") == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a feed"),
        (b"just some text, not XML", "not a feed"),
        (b"<html><body><p>A web page</p></body></html>", "not a feed"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x', "not a feed"),
    ],
)
def test_what_is_not_a_feed_is_an_error(content: bytes, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        parse_feed(SourceData(content, None), "bad", zone=CASABLANCA, fetched_at=NOW)


def test_truncated_feed_keeps_its_complete_entries() -> None:
    data = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>One</title><link>https://a.example/1</link>
      <pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>
    <item><title>Two</title><link>https://a.example/2</link>
      <pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>
    <item><title>Thr"""
    result = parse_feed(SourceData(data, None), "t", zone=CASABLANCA, fetched_at=NOW)
    assert [r.title for r in result.records][:2] == ["One", "Two"]
    assert any("not well-formed" in w for w in result.warnings)


def test_entry_without_link_is_rejected_and_reported() -> None:
    data = b"""<rss version="2.0"><channel><title>T</title>
    <item><title>No link</title><description>x</description></item>
    <item><title>Fine</title><link>https://a.example/1</link>
      <pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"""
    result = parse_feed(SourceData(data, None), "t", zone=CASABLANCA, fetched_at=NOW)
    assert [r.title for r in result.records] == ["Fine"]
    assert (
        result.rejected
        and "No link" in result.rejected[0]
        and "no usable link" in result.rejected[0]
    )


def test_read_source_errors() -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_source("/nonexistent/feed.xml")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404)
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("timed out", request=request)
        assert request.headers["user-agent"].startswith("newsletter/")
        return httpx.Response(
            200, content=b"<rss version='2.0'><channel><title>ok</title></channel></rss>"
        )

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(SourceError, match="HTTP 404"):
        read_source("https://feeds.example/missing", client=client)
    with pytest.raises(SourceError, match="timed out"):
        read_source("https://feeds.example/slow", client=client, timeout=1)
    with pytest.raises(SourceError, match="larger than"):
        read_source("https://feeds.example/ok", client=client, max_bytes=10)
    assert (
        read_source("https://feeds.example/ok", client=client).base_url
        == "https://feeds.example/ok"
    )


def test_ingest_upserts_and_reports_per_source(app: App, tmp_path: Path) -> None:
    telquel = str(feed("fr_telquel_ma_regenerated.rss"))
    not_a_feed = tmp_path / "notes.txt"
    not_a_feed.write_text("hello")
    reports = app.ingest.sources([telquel, str(not_a_feed), "http://127.0.0.1:9/feed.xml"])
    assert (reports[0].new, reports[0].updated, reports[0].failed) == (10, 0, None)
    assert reports[1].failed and "not a feed" in reports[1].failed
    assert reports[2].failed and "cannot fetch" in reports[2].failed
    again = app.ingest.sources([telquel])[0]
    assert (again.new, again.updated, again.skipped) == (0, 0, 10)
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 10
        first = session.scalars(select(Article).order_by(Article.id)).first()
        assert first is not None and first.published_at.tzinfo == UTC


def test_an_article_seen_again_with_changes_is_updated(app: App, tmp_path: Path) -> None:
    path = tmp_path / "f.rss"
    template = """<rss version="2.0"><channel><title>T</title><item><title>{title}</title>
    <link>https://news.example/a?utm_source={utm}</link><guid>{guid}</guid>
    <pubDate>Tue, 24 Mar 2026 10:00:00 GMT</pubDate></item></channel></rss>"""
    path.write_text(template.format(title="Avant", utm="rss", guid="g1"))
    assert app.ingest.sources([str(path)])[0].new == 1
    path.write_text(template.format(title="Après", utm="twitter", guid="g2"))
    report = app.ingest.sources([str(path)])[0]
    assert (report.new, report.updated) == (0, 1)
    with app.sessions() as session:
        titles = session.scalars(select(Article.title)).all()
    assert titles == ["Après"]


def test_odd_entries_are_tamed() -> None:
    data = f"""<rss version="2.0"><channel><title>T</title>
    <item><title>{"Très long titre " * 60}</title><link>https://a.example/1</link>
      <description>Un résumé. Continue reading...</description>
      <pubDate>Tue, 24 Mar 2099 10:00:00 GMT</pubDate></item>
    <item><title>&amp;lol9;</title><link>https://a.example/2</link></item>
    </channel></rss>""".encode()
    result = parse_feed(SourceData(data, None), "t", zone=CASABLANCA, fetched_at=NOW)
    [record] = result.records
    assert len(record.title) <= 300 and record.title.endswith("…")
    assert record.published_at == NOW and record.published_estimated  # 2099 is not trusted
    assert record.summary == "Un résumé."
    assert "no readable title" in result.rejected[0]


def test_unsupported_schemes_and_malformed_urls_are_reported() -> None:
    with pytest.raises(SourceError, match="unsupported scheme 'ftp'"):
        read_source("ftp://example.org/feed.xml")
    with pytest.raises(SourceError, match="cannot fetch"):
        read_source("http://[::1")


def test_a_slow_drip_server_hits_the_total_deadline() -> None:
    import threading
    import time as clock
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # one byte every 0.3 s, for ever (bounded below)
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                try:
                    self.wfile.write(b"<")
                    self.wfile.flush()
                except OSError:
                    return
                clock.sleep(0.3)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = clock.monotonic()
        with pytest.raises(SourceError, match="timed out"):
            read_source(f"http://127.0.0.1:{server.server_port}/feed", timeout=1.5)
        assert clock.monotonic() - started < 6
    finally:
        server.shutdown()
        server.server_close()


def test_source_labels_are_short() -> None:
    assert source_label("TelQuel - Article Feed", None) == "TelQuel"
    long_title = "France 24 - Infos, news & actualités - L'information internationale en direct"
    assert source_label(long_title, None) == "France 24"
    assert (
        source_label(
            "International : Toute l’actualité sur Le Monde.fr.", "https://www.lemonde.fr/i/"
        )
        == "lemonde.fr"
    )


def test_one_new_article_stored_by_two_transactions_at_once_is_stored_once(app: App) -> None:
    """Two pushes of one URL (or a push and a poll) at once: the second insert gives way to
    the first's row instead of failing on the unique canonical URL (it used to answer 500)."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a second transaction cannot insert meanwhile")
    url = "https://www.example.ma/2026/03/25/reforme.html"
    record = ArticleRecord(url=url, url_key=canonical_key(url), source="cms", title="Réforme",
                           published_at=datetime(2026, 3, 25, 8, tzinfo=UTC))  # fmt: skip
    first = app.sessions()
    first.begin()
    assert upsert_article(first, record)[1] == "new"  # inserted, not yet committed
    outcomes: list[str] = []

    def second() -> None:
        with app.sessions.begin() as session:
            outcomes.append(upsert_article(session, record)[1])

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # its insert waits for the first transaction
    first.commit()
    first.close()
    thread.join(10)
    assert outcomes == ["skipped"]
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1
