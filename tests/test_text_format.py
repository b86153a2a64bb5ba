"""Readers who chose the text format get a single-part text/plain message with the same
headers (List-Unsubscribe, RFC 8058, Feedback-ID, DKIM) as the multipart one, over a real
SMTP server; the others keep multipart/alternative."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from conftest import RecordingHandler
from test_email_quality import DAY_ISO, assert_headers, dkim_key  # noqa: F401 (fixture)

from newsletter.config.settings import load_settings
from newsletter.links import Purpose
from newsletter.store.db import make_engine
from newsletter.store.models import Subscriber
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App


@pytest.fixture
def smtp_app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: tuple[RecordingHandler, int],
    dkim_key: tuple[Path, bytes],  # noqa: F811 (the imported fixture)
    database_url: str,
) -> App:
    """The production-like configuration of test_email_quality, on both databases."""
    _, port = smtp_server
    for name, value in {
        "DATABASE_URL": database_url, "BASE_URL": "https://brief.example.ma",
        "PROVIDER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
        "UNSUBSCRIBE_MAILTO": "unsubscribe@example.ma", "FEEDBACK_ID": "lebrief",
        "DKIM_SELECTOR": "brief", "DKIM_PRIVATE_KEY": str(dkim_key[0]),
    }.items():  # fmt: skip
        monkeypatch.setenv(f"NEWSLETTER_{name}", value)
    settings = load_settings()
    app = App(settings, engine=make_engine(settings.effective_database_url))
    app.init_db()
    return app


def test_text_readers_get_a_single_text_part_with_the_same_headers(
    smtp_app: App,
    smtp_server: tuple[RecordingHandler, int],
    dkim_key: tuple[Path, bytes],  # noqa: F811
) -> None:
    handler, _ = smtp_server
    day = date.fromisoformat(DAY_ISO)
    smtp_app.ingest.sample(day)
    with smtp_app.sessions.begin() as session:
        for email, topics, message_format in [
            ("html@example.org", [], "html"),
            ("text@example.org", [], "text"),
            ("sport-text@example.org", ["sport"], "text"),  # a personal variant, text only
        ]:
            added = add_subscriber(
                session, SubscriberRecord(email, name="Hélène", topics=topics), source="test"
            )
            added.subscriber.format = message_format
    assert smtp_app.release.send(day).run.sent == 3
    by_address = {m.rcpt_tos[0]: m.data for m in handler.messages}
    assert by_address.keys() == {"html@example.org", "text@example.org", "sport-text@example.org"}

    multipart = assert_headers(by_address["html@example.org"], dkim_key[1])
    assert multipart.get_content_type() == "multipart/alternative"
    multipart_text = multipart.get_body(preferencelist=("plain",)).get_content()

    for address in ("text@example.org", "sport-text@example.org"):
        raw = by_address[address]
        message = assert_headers(raw, dkim_key[1])
        assert not message.is_multipart() and message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message["Content-Transfer-Encoding"] == "quoted-printable"
        assert b"text/html" not in raw and b"<html" not in raw.lower()
        text = message.get_content()
        with smtp_app.sessions() as session:
            subscriber_id = session.query(Subscriber.id).filter_by(email=address).scalar()
        unsubscribe = str(message["List-Unsubscribe"]).split("<")[1].split(">")[0]
        assert unsubscribe in text  # the same personal links as in the multipart text part
        preferences = re.search(r"https://brief\.example\.ma/p/(\S+)", text)[1]
        assert smtp_app.links.verify(Purpose.PREFERENCES, preferences) == subscriber_id
        assert address in text and "https://brief.example.ma/r/" in text  # click links
        assert message["Subject"] and message["From"] == multipart["From"]
        if address == "text@example.org":  # the main edition: the same text part
            assert impersonal(text) == impersonal(multipart_text)


def impersonal(text: str) -> str:
    """``text`` without what differs between two readers (address, signed links)."""
    text = re.sub(r"https://brief\.example\.ma/[up]/\S+", "LINK", text)
    return re.sub(r"[\w.-]+@example\.org", "ADDRESS", text)
