"""The readers' preferences page (topics, frequency, pause, format, time zone, unsubscribe)
and the pages in English, through the real ASGI app on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import string
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select
from test_web import TestClient, path_of

from newsletter import words
from newsletter.links import Purpose
from newsletter.store.models import Subscriber
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.wiring import App

DAY = date(2026, 3, 25)


def subscriber(app: App, email: str) -> Subscriber:
    with app.sessions() as session:
        return session.scalars(select(Subscriber).where(Subscriber.email == email)).one()


@pytest.fixture
def reader(app: App) -> tuple[TestClient, App, str]:
    """A client, the app, and the preferences path of active reader a@example.org."""
    with app.sessions.begin() as session:
        added = add_subscriber(session, SubscriberRecord("a@example.org"), source="test")
        session.flush()
        subscriber_id = added.subscriber.id
    url = path_of(app.links.subscriber_url(Purpose.PREFERENCES, subscriber_id))
    return TestClient(create_app(app), base_url="http://localhost:8000"), app, url


def full_form(app: App, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "topics": ["sport"], "frequency": "daily", "weekday": "0", "paused_until": "",
        "format": "html", "timezone": "",
    }  # fmt: skip
    form.update(changes)
    return form


def test_the_page_shows_every_current_value(reader: tuple[TestClient, App, str]) -> None:
    client, app, url = reader
    resume = app.today() + timedelta(days=10)
    with app.sessions.begin() as session:
        row = session.scalars(select(Subscriber)).one()
        row.topics, row.frequency, row.weekday = ["culture"], "weekly", 4
        row.paused_until, row.format, row.timezone = resume, "text", "Europe/Paris"
    page = client.get(url)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<html lang="fr">' in html and "a***@example.org" in html
    assert '<meta name="referrer" content="no-referrer">' in html  # the URL holds the token
    assert 'value="culture" checked' in html and 'value="sport">' in html
    assert 'value="weekly" checked' in html and 'value="daily">' in html
    assert '<option value="4" selected>vendredi</option>' in html
    assert f'name="paused_until" value="{resume.isoformat()}"' in html
    assert "vous recevrez de nouveau la lettre à partir du" in html
    assert 'value="text" checked' in html and 'value="html">' in html
    assert "<option selected>Europe/Paris</option>" in html
    assert "Celui de la lettre (Africa/Casablanca)" in html
    assert re.search(r'<form method="post" action="/u/[^"]+">', html)


def test_saving_every_field_applies_from_the_next_edition(
    reader: tuple[TestClient, App, str],
) -> None:
    client, app, url = reader
    resume = app.today() + timedelta(days=30)
    saved = client.post(
        url,
        data=full_form(
            app, topics=["sport", "culture"], frequency="weekly", weekday="2",
            paused_until=resume.isoformat(), format="text", timezone="America/Montreal",
        ),
    )  # fmt: skip
    assert saved.status_code == 200 and "Vos préférences sont enregistrées" in saved.text
    row = subscriber(app, "a@example.org")
    assert row.topics == ["sport", "culture"] and row.frequency == "weekly"
    assert (row.weekday, row.paused_until) == (2, resume)
    assert (row.format, row.timezone) == ("text", "America/Montreal")
    assert "<option selected>America/Montreal</option>" in saved.text  # shown as saved
    # Back to daily, not paused, HTML, the newsletter's zone.
    client.post(url, data=full_form(app, weekday="5"))
    row = subscriber(app, "a@example.org")
    assert (row.frequency, row.weekday, row.paused_until) == ("daily", None, None)
    assert (row.format, row.timezone, row.topics) == ("html", None, ["sport"])


def test_weekly_and_paused_readers_are_left_out_of_the_next_edition(app: App) -> None:
    app.ingest.sample(DAY)
    ids = {}
    with app.sessions.begin() as session:
        for email in ("weekly@example.org", "paused@example.org", "daily@example.org"):
            added = add_subscriber(session, SubscriberRecord(email), source="test")
            session.flush()
            ids[email] = added.subscriber.id
    client = TestClient(create_app(app), base_url="http://localhost:8000")

    def prefs(email: str) -> str:
        return path_of(app.links.subscriber_url(Purpose.PREFERENCES, ids[email]))

    weekly = client.post(prefs("weekly@example.org"), data=full_form(app, frequency="weekly"))
    assert weekly.status_code == 200
    far = (app.today() + timedelta(days=200)).isoformat()
    paused = client.post(prefs("paused@example.org"), data=full_form(app, paused_until=far))
    assert paused.status_code == 200
    # DAY is in the past: the page only takes a future date, so move the saved one to the
    # day after DAY (the reader receives again from then on).
    with app.sessions.begin() as session:
        session.get(Subscriber, ids["paused@example.org"]).paused_until = DAY + timedelta(days=1)
    result = app.release.send(DAY)
    assert result.run.sent == 1
    sent = list((app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"))
    assert len(sent) == 1 and b"daily@example.org" in sent[0].read_bytes()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"frequency": "hourly"}, "«\u202fchaque jour\u202f»"),
        ({"frequency": "weekly", "weekday": "7"}, "jour de la semaine"),
        ({"frequency": "weekly", "weekday": ""}, "jour de la semaine"),
        ({"weekday": "-1"}, "jour de la semaine"),
        ({"paused_until": "2026-02-30"}, "AAAA-MM-JJ"),
        ({"paused_until": "demain"}, "AAAA-MM-JJ"),
        ({"paused_until": "+12026-01-01"}, "AAAA-MM-JJ"),
        ({"paused_until": "2001-01-01"}, "après aujourd’hui"),
        ({"paused_until": "2999-01-01"}, "au plus un an"),
        ({"format": "pdf"}, "HTML ou texte"),
        ({"timezone": "Mars/Olympus"}, "fuseau horaire est inconnu"),
        ({"timezone": "../../etc/passwd"}, "fuseau horaire est inconnu"),
        ({"timezone": "Europe/" + "x" * 300}, "fuseau horaire est inconnu"),
        ({"timezone": "europe/paris"}, "fuseau horaire est inconnu"),
        ({"format": ["html", "text"]}, "deux fois"),
    ],
)
def test_a_bad_value_saves_nothing_and_says_why(
    reader: tuple[TestClient, App, str], changes: dict[str, object], words: str
) -> None:
    client, app, url = reader
    before = subscriber(app, "a@example.org")
    answer = client.post(url, data=full_form(app, topics=["culture"], **changes))
    assert answer.status_code == 400, answer.text
    assert 'role="alert"' in answer.text and words in answer.text
    assert "Rien n’a été modifié" in answer.text and '<form method="post"' in answer.text
    after = subscriber(app, "a@example.org")
    for name in ("topics", "frequency", "weekday", "paused_until", "format", "timezone"):
        assert getattr(after, name) == getattr(before, name), name


def test_unsubscribe_from_the_preferences_page(reader: tuple[TestClient, App, str]) -> None:
    client, app, url = reader
    action = re.search(r'<form method="post" action="([^"]*/u/[^"]+)">', client.get(url).text)[1]
    assert action.startswith("/u/")  # a path: the page may be served on another host or port
    done = client.post(action, data={"confirm": "1"})
    assert done.status_code == 200 and "Vous êtes désabonné·e" in done.text
    assert subscriber(app, "a@example.org").status == "unsubscribed"
    page = client.get(url)  # the page says so, offers to come back, and still saves choices
    assert "ne reçoit pas Le Brief en ce moment" in page.text and 'href="/subscribe"' in page.text
    assert "/u/" not in page.text
    assert client.post(url, data=full_form(app, format="text")).status_code == 200
    assert subscriber(app, "a@example.org").format == "text"


# --- English --------------------------------------------------------------------------------
PAGES = {language: words.table(language, "readers") for language in ("fr", "en")}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_word_with_the_same_placeholders() -> None:
    assert PAGES["fr"].keys() == PAGES["en"].keys()
    for key, french in PAGES["fr"].items():
        assert french.strip() and PAGES["en"][key].strip(), key
        assert placeholders(french) == placeholders(PAGES["en"][key]), key


def test_pages_follow_the_configured_language(reader: tuple[TestClient, App, str]) -> None:
    _, app, url = reader
    english = App(app.settings.model_copy(update={"language": "en"}), engine=app.engine)
    client = TestClient(create_app(english), base_url="http://localhost:8000")
    preferences = client.get(url).text
    assert '<html lang="en">' in preferences and "Your preferences" in preferences
    assert "Once a week, on" in preferences and ">Wednesday</option>" in preferences
    assert "Politics" in preferences and "Stop receiving anything" in preferences
    assert not re.search(r"préférences|Enregistrer|rubriques", preferences)
    bad = client.post(url, data={"format": "pdf"})
    assert bad.status_code == 400 and "Choose the HTML or the text format." in bad.text
    assert "Your preferences are saved" in client.post(url, data={"format": "text"}).text
    signup = client.get("/subscribe").text
    assert "Email address" in signup and "Subscribe</button>" in signup
    answer = client.post("/api/subscribe", json={"email": "nope"})
    assert answer.status_code == 400 and answer.json() == {
        "error": "This email address is not valid."
    }
    assert "Check your inbox" in client.post("/subscribe", data={"email": "e@example.org"}).text
    [mail] = (english.settings.effective_outbox_dir / "confirmations").glob("*.eml")
    confirmation = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert confirmation["Subject"] == "Confirm your subscription to Le Brief"
    body = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert "valid for 7 days" in body and "/c/" in body and "Bonjour" not in body
    assert "This link is not valid." in client.get("/u/forged").text
    assert "This page does not exist." in client.get("/nowhere").text
    assert "Method not allowed." in client.request("PUT", url).text
    assert "No edition yet." in client.get("/archive").text
    unsubscribe = re.search(r'action="(/u/[^"]+)"', preferences)[1]
    assert "Do you confirm that a***@example.org" in client.get(unsubscribe).text
    assert "You are unsubscribed" in client.post(unsubscribe, data={"x": "1"}).text


@pytest.mark.parametrize("subscriber_id", [2**31, 2**63, 10**30])
def test_a_signed_token_with_an_id_no_row_can_have_is_refused_not_a_500(
    app: App, subscriber_id: int
) -> None:
    """A validly signed token whose subscriber id no database key can hold (PostgreSQL's
    INTEGER stops at 2**31 - 1) is a bad link: every page answers 4xx, never 500."""
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    for purpose, prefix in ((Purpose.UNSUBSCRIBE, "u"), (Purpose.PREFERENCES, "p")):
        token = app.links.token(purpose, subscriber_id)
        for method in ("GET", "POST"):
            answer = client.request(method, f"/{prefix}/{token}")
            assert 400 <= answer.status_code < 500, (purpose, method, answer.status_code)
