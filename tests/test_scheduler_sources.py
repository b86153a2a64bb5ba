"""A real ``newsletter run`` process polls the registered sources on a real HTTP server
(127.0.0.1): the server sees the polls, the next one is answered 304, an article added to a
feed after the start is in the edition the SMTP server receives, and a source answering 500
or unreachable is reported without stopping the others."""

from __future__ import annotations

import time
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.timeutil import get_zone, utcnow
from newsletter.wiring import App
from tests.conftest import RecordingHandler
from tests.feedserver import Entry, FeedServer, serving_feeds
from tests.test_scheduler_run import environment, free_port, start, stop, wait_for, wait_ready

ZONES = ("Africa/Casablanca", "Asia/Tokyo", "America/Montreal")
UNREACHABLE = "http://127.0.0.1:9/rss.xml"  # the discard port: nothing listens


def wait_until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def text_of(data: bytes) -> str:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_run_polls_the_sources_and_the_edition_has_an_article_added_after_the_start(
    app: App, smtp_server: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, smtp_port = smtp_server
    # A zone where the day is well under way, so that the draft and the send share a date.
    name = next(z for z in ZONES if 3 <= utcnow().astimezone(get_zone(z)).hour <= 21)
    send_at = (utcnow() + timedelta(seconds=30)).astimezone(get_zone(name))
    addresses = ["lectrice@example.org", "lecteur@example.org"]
    with app.sessions.begin() as session:
        for address in addresses:
            add_subscriber(session, SubscriberRecord(address), source="test")
    with serving_feeds() as server:
        server.feeds["/international/rss_full.xml"] = [
            Entry("Sommet européen à Bruxelles", "https://www.lemonde.fr/a/1", "Europe"),
            Entry("Accord sur le climat à Nairobi", "https://www.lemonde.fr/a/2", "Afrique"),
        ]
        server.status["/panne.xml"] = 500
        feed = "/international/rss_full.xml"
        app.sources.add(server.url(feed), name="Le Monde", section="monde")
        app.sources.add(server.url("/panne.xml"), name="En panne")
        app.sources.add(UNREACHABLE, name="Injoignable")
        env = {
            **environment(app, smtp_port, f"{send_at:%H:%M:%S}"),
            "NEWSLETTER_POLL_MINUTES": "0.05",  # every 3 seconds
            "NEWSLETTER_FEED_TIMEOUT": "2",
            "NEWSLETTER_TIMEZONE": name,
        }
        port = free_port()
        process = start(env, port, tmp_path)
        log = ""
        try:
            wait_ready(port, process)
            wait_until(lambda: 304 in statuses(server, feed), 25, "a 304 answer")
            server.feeds[feed] = [
                *server.feeds[feed],
                Entry("Dernière minute : cessez-le-feu annoncé", "https://www.lemonde.fr/a/3"),
            ]
            seen = len(server.polls(feed))
            wait_until(lambda: 200 in statuses(server, feed)[seen:], 20, "the changed feed")
            wait_for(handler, addresses, 90)
            polls_of_broken = server.polls("/panne.xml")
        finally:
            log = stop(process)
    assert statuses(server, feed)[:2] == [200, 304], log
    assert server.polls(feed)[1].if_none_match  # the conditional GET
    assert polls_of_broken and all(p.status == 500 for p in polls_of_broken)
    readers = [m for m in handler.messages if m.rcpt_tos[0] in addresses]
    assert len(readers) == 2, log
    body = text_of(readers[0].data)
    assert "cessez-le-feu" in body and "Sommet européen" in body, body
    views = {v.url: v for v in app.sources.registered()}
    assert views[server.url("/panne.xml")].last_status == "http_500"
    assert views[UNREACHABLE].last_status == "unreachable"
    assert views[server.url(feed)].error is None


def statuses(server: FeedServer, path: str) -> list[int]:
    return [p.status for p in server.polls(path)]
