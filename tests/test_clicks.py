"""Article links through the signed click redirect: one token per (edition, item, link)
for every reader (rendered once), counted in aggregate, per reader only with
NEWSLETTER_TRACK_READERS, direct links with NEWSLETTER_CLICK_TRACKING=false; forged tokens
are refused and nothing redirects anywhere an edition does not point."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from newsletter.store.models import ClickCount, EditionItem, ReaderClick, Subscriber
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.test_web import TestClient

DAY = date(2026, 3, 25)
READERS = ("a@example.org", "b@example.org")


def send(app: App) -> dict[str, str]:
    """The sample edition sent to READERS; each reader's HTML part by address."""
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for email in READERS:
            add_subscriber(session, SubscriberRecord(email), source="test")
    assert app.release.send(DAY).run.sent == len(READERS)
    parts = {}
    for path in (app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        parts[message["To"].addresses[0].addr_spec] = html + "\n" + text
    return parts


def click_links(body: str) -> list[str]:
    return re.findall(r'(http://localhost:8000/r/[^"\s<]+)', body)


def path_of(url: str) -> str:
    parts = urlsplit(url.replace("&amp;", "&"))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def counts(app: App) -> dict[int, int]:
    with app.sessions() as session:
        return {i: c for i, c in session.execute(select(ClickCount.item_id, ClickCount.clicks))}


def reader_clicks(app: App) -> list[tuple[int, str]]:
    with app.sessions() as session:
        return list(
            session.execute(
                select(ReaderClick.item_id, Subscriber.email).join(
                    Subscriber, Subscriber.id == ReaderClick.subscriber_id
                )
            )
        )


def test_links_are_one_signed_redirect_per_item_counted_in_aggregate(app: App) -> None:
    parts = send(app)
    links_a, links_b = (click_links(parts[email]) for email in READERS)
    assert links_a and links_a == links_b  # rendered once: the same links for every reader
    assert not any("?r=" in link for link in links_a)  # no reader named by default
    assert "<img" not in parts[READERS[0]]  # no open-tracking pixel
    with app.sessions() as session:
        lead = session.scalars(select(EditionItem).order_by(EditionItem.position)).first()
        assert lead is not None
        lead_id, lead_url = lead.id, lead.url
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    first = client.get(path_of(links_a[0]))
    assert first.status_code == 302
    assert first.headers["location"].startswith(lead_url)
    assert "utm_campaign=brief-2026-03-25" in first.headers["location"]
    assert first.headers["cache-control"] == "no-store"
    assert client.get(path_of(links_b[0])).status_code == 302
    assert counts(app) == {lead_id: 2}
    assert reader_clicks(app) == []  # aggregate only


def test_forged_or_unknown_tokens_are_refused_and_count_nothing(app: App) -> None:
    parts = send(app)
    link = click_links(parts[READERS[0]])[0]
    token = urlsplit(link).path.rsplit("/", 1)[1]
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for path in (f"/r/{forged}", "/r/not-a-token", f"/r/{'x' * 300}", "/r/WzEsMSwwXQ.abc"):
        answer = client.get(path)
        assert 400 <= answer.status_code < 500 and "location" not in answer.headers, path
    # a genuine token names an item, never a URL: a query cannot send the reader elsewhere
    answer = client.get(f"/r/{token}?url=https://evil.example/&next=https://evil.example/")
    assert answer.status_code == 302 and "evil" not in answer.headers["location"]
    # a genuinely signed token for an item that does not exist: 404, nothing counted
    before = counts(app)
    missing = app.links.click_token(999, 999, 0)
    assert client.get(f"/r/{missing}").status_code == 404
    assert client.post(f"/r/{token}").status_code == 405
    head = client.request("HEAD", f"/r/{token}")  # a link checker: answered, not counted
    assert head.status_code == 302 and "location" in head.headers
    assert counts(app) == before


def test_reader_clicks_only_when_readers_are_tracked(app: App) -> None:
    tracked = App(app.settings.model_copy(update={"track_readers": True}), engine=app.engine)
    parts = send(tracked)
    links_a, links_b = (click_links(parts[email]) for email in READERS)
    assert all("?r=" in link for link in links_a + links_b)
    assert links_a != links_b  # each reader's own token, filled per recipient
    assert [link.split("?")[0] for link in links_a] == [link.split("?")[0] for link in links_b]
    client = TestClient(create_app(tracked), base_url="http://localhost:8000")
    assert client.get(path_of(links_b[0])).status_code == 302
    (item_id,) = counts(tracked)
    assert reader_clicks(tracked) == [(item_id, READERS[1])]
    # a forged reader part still counts the click in aggregate, but names no one
    assert client.get(path_of(links_b[0].split("?")[0] + "?r=forged")).status_code == 302
    assert counts(tracked) == {item_id: 2}
    assert len(reader_clicks(tracked)) == 1
    # with tracking of readers off again, a link that names a reader counts it in aggregate
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    assert client.get(path_of(links_a[0])).status_code == 302
    assert len(reader_clicks(app)) == 1 and counts(app) == {item_id: 3}


def test_click_tracking_off_restores_direct_links(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = App(app.settings.model_copy(update={"click_tracking": False}), engine=app.engine)
    parts = send(direct)
    body = parts[READERS[0]]
    assert click_links(body) == []
    with direct.sessions() as session:
        urls = session.scalars(select(EditionItem.url)).all()
        assert session.scalar(select(func.count()).select_from(ClickCount)) == 0
    assert all(url.split("?")[0] in body for url in urls)
