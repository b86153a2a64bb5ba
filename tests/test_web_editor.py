"""Editors' pages through the real ASGI app (httpx's ASGI transport, cookies kept between
requests like a browser): sign-in, sessions, CSRF, rate limits, the editions list, a
draft's preview and every decision, the test send, approval and hold, the audience pages,
and bad input that answers a 4xx page and changes nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from newsletter.config.settings import Settings
from newsletter.errors import UsageError
from newsletter.store.db import transaction
from newsletter.store.models import Delivery, Subscriber, Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.timeutil import utcnow
from newsletter.web.app import create_app
from newsletter.web.auth import COOKIE, LOGINS_PER_ACCOUNT
from newsletter.web.auth import LONGEST_LOCK_SECONDS as LONGEST
from newsletter.web.editor_audience import EXPORT_BATCH
from newsletter.web.passwords import hash_password, verify_password
from newsletter.wiring import App
from newsletter.words import table as word_table

DAY = date(2026, 3, 25)
EDITOR = "redaction@example.ma"
PASSWORD = "un mot de passe assez long"
HASH = hash_password(PASSWORD)


class Browser:
    """httpx's ASGI transport driven synchronously, keeping cookies between requests (on
    their path) as a browser does. Each call is one real ASGI request."""

    def __init__(
        self, asgi: object, base_url: str = "http://localhost:8000", client: str = "127.0.0.1"
    ) -> None:
        self.asgi, self.base_url, self.client = asgi, base_url, client
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi, client=(self.client, 123))  # type: ignore[arg-type]
            async with httpx.AsyncClient(
                transport=transport, base_url=self.base_url, cookies=self.cookies
            ) as client:
                response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
                self.cookies = client.cookies
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def csrf(self, path: str = "/editor/") -> str:
        """The CSRF token of a page's forms."""
        page = self.get(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match[1]

    def sign_in(self, email: str = EDITOR, password: str = PASSWORD) -> httpx.Response:
        token = self.csrf("/editor/login")
        return self.post(
            "/editor/login", data={"csrf_token": token, "email": email, "password": password}
        )

    def send(self, path: str, **fields: str) -> httpx.Response:
        """POST a form with the session's CSRF token, as the page's button does."""
        token = self.csrf()
        return self.post(path, data={"csrf_token": token, **fields})


@pytest.fixture
def editor_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"editors": {EDITOR: HASH}})


@pytest.fixture
def site(app: App, editor_settings: Settings) -> tuple[Browser, App]:
    """The sample articles of DAY and three readers; an editor account."""
    application = App(editor_settings, engine=app.engine)
    application.ingest.sample(DAY)
    with application.sessions.begin() as session:
        for email in ("a@example.org", "b@example.org", "c@example.org"):
            add_subscriber(session, SubscriberRecord(email), source="test")
    return Browser(create_app(application)), application


@pytest.fixture
def signed_in(site: tuple[Browser, App]) -> tuple[Browser, App]:
    browser, application = site
    answer = browser.sign_in()
    assert answer.status_code == 303 and answer.headers["location"] == "/editor/"
    return browser, application


def composed(application: App) -> list[int]:
    """Compose DAY's draft; its article ids in order."""
    return [i.article_id for i in application.composer.compose(DAY).edition.items]


def order(application: App) -> list[int]:
    edition = application.drafts.get(DAY)
    assert edition is not None
    return [i.article_id for i in edition.items]


# --- passwords and settings -------------------------------------------------------------------
def test_argon2id_hashes_verify_only_the_right_password() -> None:
    assert HASH.startswith("$argon2id$")
    assert verify_password(HASH, PASSWORD)
    assert not verify_password(HASH, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("$argon2id$v=19$m=1,t=1,p=1$bad$bad", PASSWORD)
    assert not verify_password(HASH, PASSWORD + "x" * 2000)


def test_editors_come_from_the_environment_and_refuse_plain_passwords(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsletter.config.settings import ConfigError, load_settings

    monkeypatch.setenv("NEWSLETTER_EDITORS", f'{{"Redaction@Example.MA": "{HASH}"}}')
    assert load_settings().editors == {EDITOR: HASH}
    monkeypatch.setenv("NEWSLETTER_EDITORS", '{"redaction@example.ma": "hunter2"}')
    with pytest.raises(ConfigError, match=r"NEWSLETTER_EDITORS: .*Argon2 hash"):
        load_settings()


def test_cli_hash_password_reads_stdin_and_prints_a_hash() -> None:
    from typer.testing import CliRunner

    from newsletter.cli import app as cli

    result = CliRunner().invoke(cli, ["editor", "hash-password"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    hashed = result.stdout.strip().splitlines()[0]
    assert verify_password(hashed, PASSWORD) and PASSWORD not in result.stdout
    short = CliRunner().invoke(cli, ["editor", "hash-password"], input="court\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output


# --- sign-in, sessions, CSRF ------------------------------------------------------------------
def test_pages_need_a_signed_in_editor(site: tuple[Browser, App]) -> None:
    browser, _ = site
    for path in ("/editor/", "/editor/subscribers", "/editor/suppressions", "/editor/sources",
                 f"/editor/editions/{DAY}", f"/editor/editions/{DAY}/email.html",
                 "/editor/subscribers/export.csv"):  # fmt: skip
        answer = browser.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/editor/login?next=" + path.split("?")[0])
    for path in ("/editor/editions", f"/editor/editions/{DAY}/approve", "/editor/logout",
                 f"/editor/editions/{DAY}/items/1", "/editor/subscribers/import"):  # fmt: skip
        answer = browser.post(path, data={"action": "pin"})
        assert answer.status_code == 401, path
        assert "connectez-vous" in answer.text


def test_sign_in_sets_a_strict_cookie_and_returns_to_the_page_asked(
    site: tuple[Browser, App],
) -> None:
    browser, _ = site
    first = browser.get("/editor/subscribers?q=a")
    login = first.headers["location"]
    form = browser.get(login)
    assert form.status_code == 200 and 'name="next" value="/editor/subscribers?q=a"' in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    answer = browser.post(
        "/editor/login",
        data={"csrf_token": token, "email": "Redaction@Example.ma", "password": PASSWORD,
              "next": "/editor/subscribers?q=a"},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/editor/subscribers?q=a"
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/editor" in cookie and "secure" not in cookie  # the base URL is http
    page = browser.get("/editor/subscribers?q=a")
    assert page.status_code == 200 and EDITOR in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_secure_cookie_when_the_base_url_is_https(app: App, editor_settings: Settings) -> None:
    application = App(
        editor_settings.model_copy(update={"base_url": "https://brief.example.ma"}),
        engine=app.engine,
    )
    browser = Browser(create_app(application), base_url="https://brief.example.ma")
    answer = browser.sign_in()
    assert answer.status_code == 303 and "secure" in answer.headers["set-cookie"].lower()


def test_wrong_password_unknown_account_and_open_redirect(site: tuple[Browser, App]) -> None:
    browser, _ = site
    wrong = browser.sign_in(password="not the password at all")
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    unknown = browser.sign_in(email="someone@example.ma")
    assert unknown.status_code == 401 and unknown.text.count("incorrect") == 1
    assert browser.get("/editor/").status_code == 303
    token = browser.csrf("/editor/login")
    for target in ("https://evil.example/", "//evil.example/editor/", "/archive"):
        answer = browser.post(
            "/editor/login",
            data={"csrf_token": token, "email": EDITOR, "password": PASSWORD, "next": target},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/editor/", target
        token = browser.csrf()


def test_login_needs_its_csrf_token(site: tuple[Browser, App]) -> None:
    browser, _ = site
    browser.get("/editor/login")
    answer = browser.post("/editor/login", data={"email": EDITOR, "password": PASSWORD})
    assert answer.status_code == 403
    forged = browser.post(
        "/editor/login", data={"csrf_token": "x" * 43, "email": EDITOR, "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert browser.get("/editor/").status_code == 303  # not signed in


def test_login_lockout_is_per_account_and_address_with_growing_delays(
    app: App, editor_settings: Settings
) -> None:
    """OWASP's lockout: five wrong passwords lock the account *at that address* (even the
    right password is refused there, before it is checked) for 1 minute, doubling with each
    further failure up to 15; the same account signs in from another address meanwhile."""
    from datetime import timedelta

    from starlette.applications import Starlette
    from starlette.routing import Mount

    from newsletter.web.auth import LoginLimits
    from newsletter.web.editor import create_editor_app

    application = App(editor_settings, engine=app.engine)
    now = [utcnow()]
    limits = LoginLimits(clock=lambda: now[0])
    mounted = Starlette(routes=[Mount("/editor", app=create_editor_app(application, limits))])
    attacker = Browser(mounted, client="203.0.113.9")
    for _ in range(LOGINS_PER_ACCOUNT):
        assert attacker.sign_in(password="wrong wrong wrong").status_code == 401
    blocked = attacker.sign_in()  # the right password, from the locked address
    assert blocked.status_code == 429 and "Trop de tentatives" in blocked.text
    assert blocked.headers["retry-after"] == "60" and "1\u00a0min" in blocked.text
    assert attacker.get("/editor/").status_code == 303
    # The editor, elsewhere, is not locked out by the attacker.
    editor = Browser(mounted, client="198.51.100.7")
    assert editor.sign_in().status_code == 303
    # Growing delays: each failure after the lock doubles it, 15 minutes at most.
    waited = 60
    for expected in (120, 240, 480, 900, 900):
        now[0] += timedelta(seconds=waited + 1)
        waited = expected
        assert attacker.sign_in(password="wrong wrong wrong").status_code == 401
        refused = attacker.sign_in(password="wrong wrong wrong")
        assert refused.status_code == 429 and refused.headers["retry-after"] == str(expected)
    # Another process (another app on the same database) sees the same lock.
    other = Starlette(routes=[Mount("/editor", app=create_editor_app(
        App(editor_settings, engine=app.engine), LoginLimits(clock=lambda: now[0])))])  # fmt: skip
    assert Browser(other, client="203.0.113.9").sign_in().status_code == 429
    # Once the lock has run out, the right password works and clears the count.
    now[0] += timedelta(seconds=LONGEST + 1)
    assert attacker.sign_in().status_code == 303
    # The audit log names the lock and the sign-ins, with their addresses.
    log = editor.get("/editor/audit").text
    assert "connexion bloquée" in log and "203.0.113.9" in log and "198.51.100.7" in log
    assert "s’est connecté" in log


def test_login_lockout_per_address_whatever_the_account(
    app: App, editor_settings: Settings
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from newsletter.web.auth import LoginLimits
    from newsletter.web.editor import create_editor_app

    application = App(editor_settings, engine=app.engine)
    limits = LoginLimits(per_ip=3, per_account=100)
    mounted = Starlette(routes=[Mount("/editor", app=create_editor_app(application, limits))])
    spray = Browser(mounted, client="203.0.113.50")
    for email in ("x@example.ma", "y@example.ma", "z@example.ma"):
        assert spray.sign_in(email=email, password="wrong").status_code == 401
    assert spray.sign_in().status_code == 429  # the address is locked, every account
    assert Browser(mounted, client="203.0.113.51").sign_in().status_code == 303


def test_post_without_or_with_a_wrong_csrf_token_changes_nothing(
    signed_in: tuple[Browser, App],
) -> None:
    browser, application = signed_in
    ids = composed(application)
    for data in ({"action": "exclude"}, {"action": "exclude", "csrf_token": "forged"}):
        answer = browser.post(f"/editor/editions/{DAY}/items/{ids[0]}", data=data)
        assert answer.status_code == 403 and "formulaire" in answer.text
    assert order(application) == ids
    answer = browser.post(f"/editor/editions/{DAY}/approve", json={"csrf_token": "x"})
    assert answer.status_code == 403
    assert application.drafts.get(DAY).approved_at is None


def test_logout_ends_the_session(signed_in: tuple[Browser, App]) -> None:
    browser, _ = signed_in
    old_cookies = httpx.Cookies(browser.cookies)
    answer = browser.send("/editor/logout")
    assert answer.status_code == 303 and answer.headers["location"] == "/editor/login"
    assert browser.get("/editor/").status_code == 303
    browser.cookies = old_cookies  # a stolen cookie still works until it expires: idle limit
    assert browser.get("/editor/").status_code == 200


def test_idle_session_expires(signed_in: tuple[Browser, App], monkeypatch: pytest.MonkeyPatch
                              ) -> None:  # fmt: skip
    import time

    browser, _ = signed_in
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 59 * 60)  # the idle limit is 60 min
    assert browser.get("/editor/").status_code == 200  # and this use restarts it
    monkeypatch.setattr(time, "time", lambda: real() + 118 * 60)
    assert browser.get("/editor/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: real() + 180 * 60)  # 62 min unused
    answer = browser.get("/editor/")  # the cookie's Max-Age and signature have both expired
    assert answer.status_code == 303 and answer.headers["location"].startswith("/editor/login")


def test_a_session_ends_after_its_absolute_lifetime_however_busy(
    app: App, editor_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    settings = editor_settings.model_copy(
        update={"editor_idle_minutes": 1440, "editor_session_hours": 1}
    )
    browser = Browser(create_app(App(settings, engine=app.engine)))
    browser.sign_in()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 50 * 60)
    assert browser.get("/editor/").status_code == 200  # used 50 minutes after sign-in
    monkeypatch.setattr(time, "time", lambda: real() + 65 * 60)
    answer = browser.get("/editor/")
    assert answer.status_code == 303 and "expired=1" in answer.headers["location"]


def test_size_levels_follow_gmail_clipping() -> None:
    from newsletter.editions.decisions import NEAR_CLIP_BYTES, size_level
    from newsletter.render.edition import GMAIL_CLIP_BYTES

    assert size_level(NEAR_CLIP_BYTES - 1) == "ok"
    assert size_level(NEAR_CLIP_BYTES) == size_level(GMAIL_CLIP_BYTES) == "near"
    assert size_level(GMAIL_CLIP_BYTES + 1) == "over"


# --- editions -------------------------------------------------------------------------------
def test_editions_list_and_compose(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    empty = browser.get("/editor/")
    assert empty.status_code == 200 and "Aucune édition" in empty.text
    answer = browser.send("/editor/editions", date=DAY.isoformat())
    assert answer.status_code == 303 and answer.headers["location"] == f"/editor/editions/{DAY}"
    assert application.drafts.get(DAY) is not None
    listed = browser.get("/editor/")
    assert f'href="/editor/editions/{DAY}"' in listed.text and "brouillon" in listed.text


def test_preview_shows_the_email_the_checks_and_the_scores(
    signed_in: tuple[Browser, App],
) -> None:
    browser, application = signed_in
    composed(application)
    edition = application.drafts.get(DAY)
    page = browser.get(f"/editor/editions/{DAY}")
    assert page.status_code == 200
    text = page.text
    assert f'src="/editor/editions/{DAY}/email.html" width="640"' in text
    assert f'src="/editor/editions/{DAY}/email.html" width="375"' in text
    from html import escape

    assert escape(edition.subject, quote=True) in text and "Version texte" in text
    assert "sur un budget de 5 min 00 s" in text
    assert re.search(r'<span id="size">\d+,\d Ko</span> sur 102 Ko', text)
    assert "fraîcheur" in text and "place dans le flux" in text
    for item in edition.items:
        assert f'data-article="{item.article_id}"' in text
    frame = browser.get(f"/editor/editions/{DAY}/email.html")
    assert frame.status_code == 200 and frame.text.startswith("<!DOCTYPE html")
    assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "lecteur@example.org" in frame.text


def test_pin_exclude_include_move_and_unpin(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    ids = composed(application)
    assert len(ids) >= 4
    path = f"/editor/editions/{DAY}/items"
    # pin the third: it leads (the first pin leads)
    answer = browser.send(f"{path}/{ids[2]}", action="pin")
    assert answer.status_code == 303
    assert order(application)[0] == ids[2] and application.drafts.get(DAY).pins == [ids[2]]
    assert "Article épinglé." in browser.get(answer.headers["location"]).text
    browser.send(f"{path}/{ids[2]}", action="unpin")
    assert order(application) == ids and application.drafts.get(DAY).pins == []
    # move the last up, then down again: exactly a swap with its neighbour
    browser.send(f"{path}/{ids[-1]}", action="up")
    assert order(application) == [*ids[:-2], ids[-1], ids[-2]]
    browser.send(f"{path}/{ids[-1]}", action="down")
    assert order(application) == ids
    browser.send(f"{path}/{ids[1]}", action="up")
    assert order(application)[:2] == [ids[1], ids[0]]
    # exclude, then include
    browser.send(f"{path}/{ids[3]}", action="exclude")
    assert ids[3] not in order(application) and application.drafts.get(DAY).excludes == [ids[3]]
    page = browser.get(f"/editor/editions/{DAY}")
    assert "Exclus" in page.text and "Réintégrer" in page.text
    browser.send(f"{path}/{ids[3]}", action="include")
    assert ids[3] in order(application) and application.drafts.get(DAY).excludes == []


def test_pin_an_article_left_out(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    ids = composed(application)
    page = browser.get(f"/editor/editions/{DAY}")
    left = re.findall(r'items/(\d+)"><input type="hidden" name="csrf_token" value="[^"]+">'
                      r'<input type="hidden" name="version" value="\d+">'
                      r'<input type="hidden" name="action" value="pin">', page.text)  # fmt: skip
    outside = [int(a) for a in left if int(a) not in ids]
    assert outside, "the sample day has more articles than five minutes hold"
    browser.send(f"/editor/editions/{DAY}/items/{outside[0]}", action="pin")
    assert order(application)[0] == outside[0]


def test_bad_item_requests_are_4xx_and_change_nothing(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    ids = composed(application)
    path = f"/editor/editions/{DAY}/items"
    cases = [
        (f"{path}/{ids[0]}", {"action": "up"}, 400),  # the lead cannot go up
        (f"{path}/{ids[-1]}", {"action": "down"}, 400),
        (f"{path}/{ids[0]}", {"action": "explode"}, 400),
        (f"{path}/{ids[0]}", {"action": "unpin"}, 400),
        (f"{path}/{ids[0]}", {"action": "include"}, 400),
        (f"{path}/999999", {"action": "exclude"}, 400),
        (f"{path}/999999", {"action": "pin"}, 400),
        (f"{path}/abc", {"action": "pin"}, 404),
        (f"/editor/editions/2026-02-30/items/{ids[0]}", {"action": "pin"}, 404),
        (f"/editor/editions/2026-W13-3/items/{ids[0]}", {"action": "pin"}, 404),
        (f"/editor/editions/2020-01-01/items/{ids[0]}", {"action": "pin"}, 404),
        ("/editor/editions", {"date": "hier"}, 404),
        ("/editor/editions", {"date": "9999-12-31"}, 400),
        ("/editor/editions", {"date": "1900-01-01"}, 400),
        (f"/editor/editions/{DAY}/hold", {"held": "maybe"}, 400),
        (f"/editor/editions/{DAY}/texts", {"subject": "a" * 201}, 400),
        (f"/editor/editions/{DAY}/texts", {"subject": "x\ny"}, 400),
        (f"/editor/editions/{DAY}/test", {"email": "not an address"}, 400),
        (f"/editor/editions/{DAY}/test", {"email": ""}, 400),
    ]
    for url, data, status in cases:
        answer = browser.send(url, **data)
        assert answer.status_code == status, (url, data, answer.text[:300])
        assert "Rien n’a été modifié" in answer.text or status == 404
    assert order(application) == ids
    edition = application.drafts.get(DAY)
    assert edition.pins == [] and edition.excludes == [] and edition.subject_override is None
    assert browser.get(f"/editor/editions/{DAY}/nothing").status_code == 404
    assert browser.get("/editor/editions/25-03-2026").status_code == 404
    assert browser.request("DELETE", f"/editor/editions/{DAY}").status_code == 405


def test_subject_and_preheader(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    composed(application)
    answer = browser.send(
        f"/editor/editions/{DAY}/texts", subject="Le Brief du mercredi", preheader="Trois choses"
    )
    assert answer.status_code == 303
    edition = application.drafts.get(DAY)
    assert (edition.subject, edition.preheader) == ("Le Brief du mercredi", "Trois choses")
    frame = browser.get(f"/editor/editions/{DAY}/email.html")  # rendered again, not cached
    assert "Trois choses" in frame.text
    browser.send(f"/editor/editions/{DAY}/texts", subject="", preheader="")
    edition = application.drafts.get(DAY)
    assert edition.subject_override is None and edition.subject != "Le Brief du mercredi"


def test_test_send_through_the_file_provider_records_no_delivery(
    signed_in: tuple[Browser, App],
) -> None:
    browser, application = signed_in
    composed(application)
    answer = browser.send(f"/editor/editions/{DAY}/test", email="relecture@example.org")
    assert answer.status_code == 303
    files = list((application.settings.effective_outbox_dir / f"tests-{DAY}").glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    edition = application.drafts.get(DAY)
    assert message["Subject"] == "[TEST] " + edition.subject
    assert message["To"] == "relecture@example.org"
    html = message.get_body(("html",)).get_content()
    assert "relecture@example.org" in html
    with application.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert edition.status == "draft"


def test_test_send_over_smtp(
    app: App, editor_settings: Settings, smtp_server: tuple[object, int]
) -> None:
    handler, port = smtp_server
    settings = editor_settings.model_copy(
        update={"provider": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port}
    )
    application = App(settings, engine=app.engine)
    application.ingest.sample(DAY)
    application.composer.compose(DAY)
    browser = Browser(create_app(application))
    browser.sign_in()
    answer = browser.send(f"/editor/editions/{DAY}/test", email="relecture@example.org")
    assert answer.status_code == 303
    assert "Test envoyé" in browser.get(answer.headers["location"]).text
    assert len(handler.messages) == 1  # type: ignore[attr-defined]
    received = handler.messages[0]  # type: ignore[attr-defined]
    assert received.rcpt_tos == ["relecture@example.org"]
    message = message_from_bytes(received.data, policy=policy.default)
    assert message["Subject"].startswith("[TEST] ")
    handler.refuse["refuse@example.org"] = (550, "5.1.1 no such user")  # type: ignore[attr-defined]
    refused = browser.send(f"/editor/editions/{DAY}/test", email="refuse@example.org")
    assert refused.status_code == 400 and "pas été accepté" in refused.text


def test_an_item_that_is_not_a_news_report_carries_its_kind(
    signed_in: tuple[Browser, App],
) -> None:
    from datetime import UTC, datetime

    from newsletter.ingest.urls import canonical_key
    from newsletter.store.articles import ArticleRecord, upsert_articles

    browser, application = signed_in
    url = "https://example.ma/opinion/tribune-eau"
    with application.sessions.begin() as session:
        upsert_articles(session, [ArticleRecord(
            url=url, url_key=canonical_key(url), source="https://example.ma/feed",
            source_name="Le Site", title="Tribune : l’eau mérite une loi à sa mesure",
            summary="Le pays manque d’eau ; la loi doit le dire et agir.", language="fr",
            published_at=datetime(2026, 3, 25, 5, 0, tzinfo=UTC), featured=True,
        )])  # fmt: skip
    items = application.composer.compose(DAY).edition.items
    assert [i.kind for i in items if i.url == url] == ["opinion"]
    assert all(i.kind == "news" for i in items if i.url != url)
    page = browser.get(f"/editor/editions/{DAY}").text
    assert page.count('<span class="badge">opinion</span>') == 1


def test_approve_and_hold(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    composed(application)
    browser.send(f"/editor/editions/{DAY}/hold", held="1")
    assert application.drafts.get(DAY).held
    assert "retenue" in browser.get(f"/editor/editions/{DAY}").text
    browser.send(f"/editor/editions/{DAY}/hold", held="0")
    assert not application.drafts.get(DAY).held
    browser.send(f"/editor/editions/{DAY}/hold", held="1")
    answer = browser.send(f"/editor/editions/{DAY}/approve")
    assert answer.status_code == 303
    edition = application.drafts.get(DAY)
    assert edition.approved_by == EDITOR and edition.approved_at is not None
    assert not edition.held  # approving lifts the hold
    again = browser.send(f"/editor/editions/{DAY}/approve")
    assert "déjà approuvée" in browser.get(again.headers["location"]).text
    empty = application.composer.compose(date(2031, 5, 5)).edition
    assert not empty.items
    refused = browser.send("/editor/editions/2031-05-05/approve")
    assert refused.status_code == 409 and "rien à approuver" in refused.text
    assert application.drafts.get(date(2031, 5, 5)).approved_at is None  # type: ignore[union-attr]


def version_of(page: str) -> int:
    """The draft's version that a page's forms carry."""
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, page[:400]
    return int(match[1])


def test_a_change_after_approval_clears_it_and_the_page_says_who_and_which_version(
    signed_in: tuple[Browser, App],
) -> None:
    """Approval is bound to the content: it names the version approved; a pin after it
    clears it (the send then refuses, approval being required) and the page says who
    changed what since the approval by whom of which version."""
    browser, application = signed_in
    ids = composed(application)
    page = browser.get(f"/editor/editions/{DAY}").text
    version = version_of(page)
    approved = browser.send(f"/editor/editions/{DAY}/approve", version=str(version))
    assert approved.status_code == 303
    edition = application.drafts.get(DAY)
    assert edition.approved_by == EDITOR and edition.approved_version == version
    assert f"version {version}" in browser.get(f"/editor/editions/{DAY}").text
    pinned = browser.send(f"/editor/editions/{DAY}/items/{ids[2]}", action="pin",
                          version=str(version))  # fmt: skip
    assert pinned.status_code == 303
    edition = application.drafts.get(DAY)
    assert edition.approved_at is None and edition.approved_by is None
    assert edition.version == version + 1
    page = browser.get(f"/editor/editions/{DAY}").text
    assert re.search(
        rf"Approbation levée\u00a0: modifiée par {re.escape(EDITOR)} le .+ depuis l’approbation "
        rf"par {re.escape(EDITOR)} de la version {version}",
        page,
    ), page
    assert "Approuvée par" not in page
    strict = App(application.settings.model_copy(update={"require_approval": True}),
                 engine=application.engine)  # fmt: skip
    with pytest.raises(UsageError, match="not approved"):
        strict.release.send(DAY)
    # Approving the page seen before the pin is refused: it names content no longer there.
    stale = browser.send(f"/editor/editions/{DAY}/approve", version=str(version))
    assert stale.status_code == 409 and "Le brouillon a changé" in stale.text
    assert application.drafts.get(DAY).approved_at is None
    # The history shows both, latest first, with the address they came from.
    history = page[page.index('id="history"') :]
    assert history.index("a épinglé") < history.index("a approuvé")
    assert "127.0.0.1" in history


def test_recomposing_an_approved_draft_clears_the_approval(
    signed_in: tuple[Browser, App],
) -> None:
    """The page's "compose" on an approved draft may bring new articles: it is a change.
    And an approval naming another version than the draft's does not let it go out."""
    browser, application = signed_in
    composed(application)
    assert browser.send(f"/editor/editions/{DAY}/approve").status_code == 303
    version = application.drafts.get(DAY).version
    assert browser.send("/editor/editions", date=DAY.isoformat()).status_code == 303
    edition = application.drafts.get(DAY)
    assert edition.approved_at is None and edition.version == version + 1
    assert "a recomposé" in browser.get(f"/editor/editions/{DAY}").text
    assert browser.send(f"/editor/editions/{DAY}/approve").status_code == 303
    with transaction(application.sessions) as session:
        from newsletter.store.models import Edition

        row = session.scalars(select(Edition).where(Edition.date == DAY)).one()
        row.approved_version = row.version - 1  # an approval of other content
    strict = App(application.settings.model_copy(update={"require_approval": True}),
                 engine=application.engine)  # fmt: skip
    with pytest.raises(UsageError, match="not approved"):
        strict.release.send(DAY)


def test_a_stale_version_is_refused_with_a_reload_page_in_each_language(
    app: App, editor_settings: Settings
) -> None:
    for language, words in (("fr", "Le brouillon a changé"), ("en", "The draft changed")):
        # English pages over the French sample articles (a French edition).
        settings = editor_settings.model_copy(update={"language": language, "languages": ["fr"]})
        application = App(settings, engine=app.engine)
        if application.drafts.get(DAY) is None:
            application.ingest.sample(DAY)
        browser = Browser(create_app(application))
        assert browser.sign_in().status_code == 303
        ids = composed(application)
        version = version_of(browser.get(f"/editor/editions/{DAY}").text)
        assert browser.send(f"/editor/editions/{DAY}/items/{ids[0]}", action="exclude",
                            version=str(version)).status_code == 303  # fmt: skip
        for url, data in ((f"/editor/editions/{DAY}/items/{ids[1]}", {"action": "exclude"}),
                          (f"/editor/editions/{DAY}/texts", {"subject": "Autre"})):  # fmt: skip
            answer = browser.send(url, version=str(version), **data)
            assert answer.status_code == 409 and words in answer.text, answer.text[:300]
            assert f'href="/editor/editions/{DAY}"' in answer.text
        edition = application.drafts.get(DAY)
        assert ids[1] not in edition.excludes and edition.subject_override is None
        for wrong in ("x1", "²", "-2", "0", "9" * 11):
            bad = browser.send(f"/editor/editions/{DAY}/items/{ids[1]}", action="exclude",
                               version=wrong)  # fmt: skip
            assert bad.status_code == 400, wrong


def test_the_command_line_clears_the_approval_and_is_in_the_audit_log(
    signed_in: tuple[Browser, App],
) -> None:
    """``newsletter edition exclude`` after an approval (no version: the newest draft)
    clears it; with approval required, ``newsletter send`` then refuses; the audit log
    names "cli"."""
    import os

    from tests.conftest import run_cli

    browser, application = signed_in
    ids = composed(application)
    assert browser.send(f"/editor/editions/{DAY}/approve").status_code == 303
    excluded = run_cli("edition", "exclude", str(ids[1]), "--date", DAY.isoformat(),
                       env=dict(os.environ))  # fmt: skip
    assert excluded.returncode == 0, excluded.stderr
    edition = application.drafts.get(DAY)
    assert edition.approved_at is None and ids[1] in edition.excludes
    sent = run_cli("send", "--date", DAY.isoformat(),
                   env={**os.environ, "NEWSLETTER_REQUIRE_APPROVAL": "true"})  # fmt: skip
    assert sent.returncode == 1 and "not approved" in sent.stderr
    assert application.drafts.get(DAY).status == "draft"
    page = browser.get(f"/editor/editions/{DAY}").text
    assert "modifiée par cli" in page
    log = browser.get("/editor/audit").text
    assert re.search(r"<td>cli</td><td></td><td>a exclu</td>", log), log[-2000:]


def test_the_audit_log_pages_latest_first(signed_in: tuple[Browser, App]) -> None:
    from newsletter.editions.drafts import note
    from newsletter.store.audit import Actor
    from newsletter.web.editor_editions import AUDIT_PAGE

    browser, application = signed_in  # one entry: the sign-in
    for n in range(AUDIT_PAGE + 5):
        note(application.drafts, None, Actor(f"editor{n}@example.ma", "192.0.2.1"), "hold")
    first = browser.get("/editor/audit")
    assert first.status_code == 200 and "Page 1 sur 2" in first.text
    assert first.text.index(f"editor{AUDIT_PAGE + 4}@") < first.text.index(f"editor{AUDIT_PAGE}@")
    assert "editor0@" not in first.text
    second = browser.get("/editor/audit?page=2")
    assert "editor0@" in second.text and "s’est connecté" in second.text
    assert browser.get("/editor/audit?page=3").status_code == 404
    for bad in ("x", "0", "²", "-1", "9" * 20):
        assert browser.get("/editor/audit", params={"page": bad}).status_code == 400, bad


def test_a_sent_edition_is_read_only(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    ids = composed(application)
    assert application.release.send(DAY).run.sent == 3
    page = browser.get(f"/editor/editions/{DAY}")
    assert page.status_code == 200 and "lecture seule" in page.text
    assert "Approuver" not in page.text and 'value="exclude"' not in page.text
    for url, data in (
        (f"/editor/editions/{DAY}/items/{ids[0]}", {"action": "exclude"}),
        (f"/editor/editions/{DAY}/texts", {"subject": "Autre"}),
        (f"/editor/editions/{DAY}/approve", {}),
        (f"/editor/editions/{DAY}/hold", {"held": "1"}),
    ):
        answer = browser.send(url, **data)
        assert answer.status_code == 409, url
    edition = application.drafts.get(DAY)
    assert order(application) == ids and edition.approved_at is None and not edition.held
    recompose = browser.send("/editor/editions", date=DAY.isoformat())
    assert "déjà partie" in browser.get(recompose.headers["location"]).text


# --- audience -----------------------------------------------------------------------------
def test_subscribers_counts_and_search(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    with transaction(application.sessions) as session:
        add_subscriber(session, SubscriberRecord("100%_real@example.org"), source="test")
    page = browser.get("/editor/subscribers")
    assert page.status_code == 200 and "Abonnés (4)" in page.text
    assert re.search(r"<th>actifs</th><td>4</td>", page.text)
    found = browser.get("/editor/subscribers", params={"q": "B@EXAMPLE"})
    assert "b@example.org" in found.text and "a@example.org" not in found.text
    wildcard = browser.get("/editor/subscribers", params={"q": "%_"})
    assert "100%_real@example.org" in wildcard.text and "a@example.org" not in wildcard.text
    none = browser.get("/editor/subscribers", params={"q": "zzz"})
    assert "Aucune adresse ne contient" in none.text
    assert browser.get("/editor/subscribers", params={"q": "x" * 400}).status_code == 400
    assert browser.get("/editor/subscribers", params={"q": "a\x00b"}).status_code == 400


def test_csv_import_reports_bad_lines_and_export_round_trips(
    signed_in: tuple[Browser, App],
) -> None:
    browser, application = signed_in
    data = (
        "email;name;topics\n"
        "nouveau@example.org;Hélène;sport\n"
        "pas-une-adresse;X;\n"
        "a@example.org;Anne;culture\n"
        '=cmd@example.org;=HYPERLINK("x");\n'
    ).encode()
    token = browser.csrf("/editor/subscribers")
    answer = browser.post(
        "/editor/subscribers/import",
        data={"csrf_token": token},
        files={"file": ("lecteurs.csv", data, "text/csv")},
    )
    assert answer.status_code == 200, answer.text[:500]
    assert "2 ajoutés, 1 mis à jour, 0 inchangés, 1 refusés" in answer.text
    assert "line 3: invalid address" in answer.text
    with application.sessions() as session:
        added = session.scalars(
            select(Subscriber).where(Subscriber.email == "nouveau@example.org")
        ).one()
        assert added.name == "Hélène" and added.topics == ["sport"] and added.source == "editor"

    export = browser.get("/editor/subscribers/export.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 5 and rows[0].keys() >= {"email", "name", "topics", "status"}
    by_email = {r["email"]: r for r in rows}
    # an existing reader keeps their (empty) topics; only the missing name was filled in
    assert (by_email["a@example.org"]["topics"], by_email["a@example.org"]["name"]) == ("", "Anne")
    assert by_email["=cmd@example.org"]["name"] == '\'=HYPERLINK("x")'  # no formula

    bad = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("x.csv", b"name\nno email column\n", "text/csv")},
    )  # fmt: skip
    assert bad.status_code == 400 and "email" in bad.text
    binary = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("x.csv", b"\xff\xfe\x00\xd8", "text/csv")},
    )  # fmt: skip
    assert binary.status_code == 400 and "UTF-16" in binary.text
    excel = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("excel.csv", "email;nom\nhelene@example.org;Hélène\n".encode("cp1252"),
                        "text/csv")},
    )  # fmt: skip
    assert excel.status_code == 200
    assert "1 ajoutés, 0 mis à jour, 0 inchangés, 0 refusés" in excel.text
    assert "excel.csv: not UTF-8: read as Windows-1252" in excel.text
    assert "excel.csv: ignoring unknown column(s) nom" in excel.text and "/tmp" not in excel.text
    field = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("x.csv", b"email,name\na@example.org," + b"x" * 200_000, "text/csv")},
    )  # fmt: skip
    assert field.status_code == 400 and "CSV" in field.text
    nul = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("x.csv", b"email,name\nn\x00ul@example.org,A\n"
                                  b"ok@example.org,A\x00B\n", "text/csv")},
    )  # fmt: skip
    assert nul.status_code == 200 and "1 ajoutés, 0 mis à jour, 0 inchangés, 1 refusés" in nul.text
    missing = browser.post("/editor/subscribers/import", data={"csrf_token": token})
    assert missing.status_code == 400
    no_token = browser.post(
        "/editor/subscribers/import", files={"file": ("x.csv", data, "text/csv")}
    )
    assert no_token.status_code == 403


def test_export_streams_many_subscribers(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    now = utcnow()
    with transaction(application.sessions) as session:  # more than one batch of the export
        session.add_all(
            Subscriber(email=f"r{n}@example.org", email_key=f"r{n}@example.org", topics=[],
                       status="active", created_at=now)
            for n in range(EXPORT_BATCH + 200)
        )  # fmt: skip
    export = browser.get("/editor/subscribers/export.csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 3 + EXPORT_BATCH + 200 and len(set(lines)) == len(lines)


def test_large_import_is_accepted_and_oversized_refused(signed_in: tuple[Browser, App]) -> None:
    browser, _ = signed_in
    from newsletter.web.editor_audience import MAX_IMPORT_BYTES

    name = "Lecteur au nom assez long pour que le fichier pèse plus de 64 Ko"
    big = "email,name\n" + "".join(f"lecteur{n}@example.org,{name} {n}\n" for n in range(1000))
    assert len(big.encode()) > 64 * 1024  # over the readers' pages' body limit
    token = browser.csrf("/editor/subscribers")
    answer = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("big.csv", big.encode(), "text/csv")},
    )  # fmt: skip
    assert answer.status_code == 200 and "1000 ajoutés" in answer.text
    huge = b"email\n" + b"x" * (MAX_IMPORT_BYTES + 100)
    refused = browser.post(
        "/editor/subscribers/import", data={"csrf_token": token},
        files={"file": ("huge.csv", huge, "text/csv")},
    )  # fmt: skip
    assert refused.status_code == 413


def test_suppression_list(signed_in: tuple[Browser, App]) -> None:
    browser, application = signed_in
    assert "La liste est vide" in browser.get("/editor/suppressions").text
    with transaction(application.sessions) as session:
        session.add(Suppression(email_key="gone@example.org", reason="hard_bounce",
                                detail="550 5.1.1 <b>no</b>", created_at=utcnow()))  # fmt: skip
    page = browser.get("/editor/suppressions")
    assert "gone@example.org" in page.text and "hard_bounce" in page.text
    assert "&lt;b&gt;no&lt;/b&gt;" in page.text  # escaped


def test_sources_page_shows_each_source_and_its_health(signed_in: tuple[Browser, App]) -> None:
    from newsletter.store.sources import PollResult, record_poll

    browser, application = signed_in
    assert "Aucune source" in browser.get("/editor/sources").text
    ok, _ = application.sources.add("https://www.lemonde.fr/international/rss_full.xml",
                                    name="Le Monde", section="International")  # fmt: skip
    broken, _ = application.sources.add("https://www.france24.com/fr/afrique/rss", every=30)
    now = utcnow()
    with transaction(application.sessions) as session:
        record_poll(session, broken.id, "test", PollResult(
            "http_500", now, now, error="HTTP 500 <Internal Server Error>"))  # fmt: skip
    page = browser.get("/editor/sources")
    assert page.status_code == 200
    text = page.text
    assert "Le Monde" in text and "international" in text and "pas encore relevé" in text
    assert 'class="failing"' in text and "http_500" in text and "toutes les 30 min" in text
    assert "HTTP 500 &lt;Internal Server Error&gt;" in text  # escaped
    assert 'href="/editor/sources"' in browser.get("/editor/").text  # in the navigation
    assert ok.id != broken.id


def test_readers_pages_keep_their_body_limit(site: tuple[Browser, App]) -> None:
    browser, _ = site
    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = browser.post("/subscribe", content=b"email=" + b"a" * 70_000, headers=form)
    assert answer.status_code == 413


def test_no_editor_configured_shows_how_to_add_one(app: App, tmp_path: Path) -> None:
    browser = Browser(create_app(app))
    page = browser.get("/editor/login")
    assert page.status_code == 200 and "newsletter editor hash-password" in page.text
    assert browser.sign_in().status_code == 401


# --- languages ------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{(\w*)\}")
EDITOR_PAGES = {language: word_table(language, "editors") for language in ("fr", "en")}
EDITOR_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "pages" / "editor"
EDITOR_CODE = Path(__file__).resolve().parent.parent / "newsletter" / "web"
#: Marks of French in a page's own words (accents, French quotes and spaces, short words).
FRENCH_MARKS = re.compile(
    r"[àâçéèêëîïôûùœ’«»\u202f\u00a0]|\b(?:le|la|les|des|du|une|aux|est|pas|sur|pour|dans|avec"
    r"|ou|vos|votre)\b",
    re.IGNORECASE,
)


def test_editor_word_tables_have_the_same_keys_and_placeholders() -> None:

    french, english = EDITOR_PAGES["fr"], EDITOR_PAGES["en"]
    assert french.keys() == english.keys()
    for key, words in french.items():
        assert words.strip() and english[key].strip(), key
        assert sorted(PLACEHOLDER.findall(words)) == sorted(PLACEHOLDER.findall(english[key])), key


def test_every_word_the_editor_pages_use_is_in_the_tables_and_none_is_left_over() -> None:
    from newsletter.store.models import EditionStatus, SubscriberStatus
    from newsletter.web.editor_editions import (
        ACTIONS,
        AUDIT_ACTIONS,
        EDITION_TEXTS,
        KIND_BADGES,
        SCORE_PARTS,
    )

    used: set[str] = set()
    for template in EDITOR_TEMPLATES.glob("*.html.j2"):
        used |= set(re.findall(r"\bt\.(\w+)", template.read_text()))
    from newsletter.store.imports import DONE, FAILED, INTERRUPTED, RUNNING
    from newsletter.web.editor_send import SERIES
    from newsletter.web.editor_sources import POLL_STATUSES

    for module in ("auth", "editor", "editor_pages", "editor_editions", "editor_audience",
                   "editor_sources", "editor_send", "embed"):  # fmt: skip
        code = (EDITOR_CODE / f"{module}.py").read_text()
        used |= set(re.findall(r'Refusal\(\d+, "(\w+)"', code))
        used |= set(re.findall(r'say\("(\w+)"', code))
        used |= set(re.findall(r'\bt\["(\w+)"\]', code))
        used |= set(re.findall(r'detail = "(\w+)"', code))
        for pair in re.findall(r'say\("(\w+)" if \w+ else "(\w+)"\)', code):
            used |= set(pair)
    used |= {f"done_{action}" for action in ACTIONS}
    used |= {f"action_{action}" for action in AUDIT_ACTIONS}
    used |= {f"status_{status.value}" for status in EditionStatus}
    used |= {f"audience_{status.value}" for status in SubscriberStatus}
    used |= {f"subscriber_{status.value}" for status in SubscriberStatus}
    used |= {f"score_{part}" for part in SCORE_PARTS}
    used |= {f"kind_{kind}" for kind in KIND_BADGES}
    used |= {f"sources_status_{status}" for status in POLL_STATUSES}
    used |= {f"numbers_{key}" for key in SERIES}
    used |= {f"import_status_{status}" for status in (RUNNING, DONE, FAILED, INTERRUPTED)}
    used |= {key for _, *keys in EDITION_TEXTS.values() for key in keys}
    used |= {"error", "too_large"}  # the error page's fallback; the body limit's refusal
    table = set(EDITOR_PAGES["fr"])
    assert used - table == set(), "words asked for but missing from the tables"
    assert table - used == set(), "words in the tables that no page uses"


class _Visible(HTMLParser):
    """A page's visible words: text (not styles nor the email's text part) and the
    attributes a reader sees or hears (title, aria-label, placeholder, alt)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "pre", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.words.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "pre", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.append(data)


def visible(html: str, data: list[str]) -> str:
    """The page's own words: its visible text without ``data`` (titles, names, subjects of
    the sample, which are French whatever the pages' language)."""
    parser = _Visible()
    parser.feed(html)
    text = "\n".join(parser.words)
    for value in sorted(data, key=len, reverse=True):
        if value.strip():
            text = text.replace(value, " ")
    return text


def fragments(language: str) -> list[str]:
    """The words of ``language``'s table (split at placeholders) that the other table never
    uses: none of them may appear in a page of the other language."""

    other = " ".join(v for k, v in EDITOR_PAGES["en" if language == "fr" else "fr"].items())
    found = []
    for key, words in EDITOR_PAGES[language].items():
        if key.endswith("_format") or key in ("decimal_mark", "separator"):
            continue
        for part in PLACEHOLDER.split(words)[::2]:
            part = part.strip(" .,:;()“”«»\u00a0\u202f—#")
            if sum(c.isalpha() for c in part) >= 4 and part not in other:
                found.append(part)
    return found


def sample_data(application: App) -> list[str]:
    """Every text of the sample a page may show: the newsletter's title, articles, sources,
    categories, the edition's subject and preheader, readers' names."""
    from newsletter.store.models import Article, Edition

    with application.sessions() as session:
        data = [application.settings.title] + [
            value
            for row in session.execute(
                select(Article.title, Article.source_name, Article.category)
            ).all()
            for value in row
            if value
        ]
        for edition in session.scalars(select(Edition)):
            data += [edition.subject, edition.preheader]
        data += [name for name in session.scalars(select(Subscriber.name)) if name]
    return data


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_editor_page_speaks_the_configured_language_only(
    app: App, editor_settings: Settings, language: str
) -> None:
    """Every editors' page, flash message and refusal, in French and in English: the page
    says so (``lang``) and holds no word of the other language's table; an English page
    shows no French mark either (the sample's own French titles aside)."""
    settings = editor_settings.model_copy(update={"language": language, "languages": ["fr"]})
    application = App(settings, engine=app.engine)
    application.ingest.sample(DAY)
    with application.sessions.begin() as session:
        for email, topics in (("a@example.org", []), ("b@example.org", []),
                              ("c@example.org", ["sport"])):  # fmt: skip
            add_subscriber(session, SubscriberRecord(email, topics=topics), source="test")
    browser = Browser(create_app(application))
    pages: dict[str, httpx.Response] = {}

    def visit(name: str, answer: httpx.Response, status: int = 200) -> httpx.Response:
        if answer.status_code == 303:  # a POST: the page it goes back to, with its message
            answer = browser.get(answer.headers["location"])
        assert answer.status_code == status, (name, answer.text[:400])
        pages[name] = answer
        return answer

    visit("signed out", browser.post("/editor/logout", data={}), 401)
    visit("login", browser.get("/editor/login"))
    visit("login expired", browser.get("/editor/login?expired=1"))
    visit("csrf", browser.post("/editor/login", data={"email": EDITOR, "password": "x"}), 403)
    visit("wrong password", browser.sign_in(password="not the right one at all"), 401)
    for _ in range(LOGINS_PER_ACCOUNT):
        browser.sign_in("nobody@example.org", "not the right one at all")
    visit("too many", browser.sign_in("nobody@example.org", "not the right one at all"), 429)
    assert browser.sign_in().status_code == 303
    visit("no editions", browser.get("/editor/"))
    visit("composed", browser.send("/editor/editions", date=DAY.isoformat()))
    ids = order(application)
    items = f"/editor/editions/{DAY}/items"
    visit("pinned", browser.send(f"{items}/{ids[2]}", action="pin"))
    visit("unpinned", browser.send(f"{items}/{ids[2]}", action="unpin"))
    visit("moved up", browser.send(f"{items}/{ids[1]}", action="up"))
    visit("moved down", browser.send(f"{items}/{ids[1]}", action="down"))
    visit("excluded", browser.send(f"{items}/{ids[3]}", action="exclude"))
    visit("put back", browser.send(f"{items}/{ids[3]}", action="include"))
    visit("excluded again", browser.send(f"{items}/{ids[3]}", action="exclude"))
    visit("held", browser.send(f"/editor/editions/{DAY}/hold", held="1"))
    visit("released", browser.send(f"/editor/editions/{DAY}/hold", held="0"))
    visit("held again", browser.send(f"/editor/editions/{DAY}/hold", held="1"))
    visit("texts", browser.send(f"/editor/editions/{DAY}/texts", subject="", preheader=""))
    visit("test sent", browser.send(f"/editor/editions/{DAY}/test", email="proof@example.org"))
    visit("approved", browser.send(f"/editor/editions/{DAY}/approve"))
    visit("approved again", browser.send(f"/editor/editions/{DAY}/approve"))
    visit("editions", browser.get("/editor/"))
    refusals = [
        ("up", f"{items}/{order(application)[0]}", {"action": "up"}, 400),
        ("unknown action", f"{items}/{ids[0]}", {"action": "explode"}, 400),
        ("not in the edition", f"{items}/999999", {"action": "exclude"}, 400),
        ("no such edition", f"/editor/editions/2020-01-01/items/{ids[0]}", {"action": "pin"},
         404),
        ("bad date", "/editor/editions", {"date": "yesterday"}, 404),
        ("date range", "/editor/editions", {"date": "9999-12-31"}, 400),
        ("bad held", f"/editor/editions/{DAY}/hold", {"held": "maybe"}, 400),
        ("long field", f"/editor/editions/{DAY}/texts", {"subject": "a" * 1001}, 400),
        ("long subject", f"/editor/editions/{DAY}/texts", {"subject": "a" * 201}, 400),
        ("two lines", f"/editor/editions/{DAY}/texts", {"subject": "x\ny"}, 400),
        ("no address", f"/editor/editions/{DAY}/test", {"email": ""}, 400),
        ("bad address", f"/editor/editions/{DAY}/test", {"email": "not an address"}, 400),
    ]  # fmt: skip
    for name, url, data, status in refusals:
        visit(name, browser.send(url, **data), status)
    visit("not a form", browser.post(f"/editor/editions/{DAY}/approve", json={}), 403)
    visit("not found", browser.get("/editor/nothing/here"), 404)
    visit("method", browser.request("DELETE", f"/editor/editions/{DAY}"), 405)

    with transaction(application.sessions) as session:
        add_subscriber(session, SubscriberRecord("gone@example.org"), source="test")
        session.add(Suppression(email_key="gone@example.org", reason="hard_bounce",
                                detail="550 5.1.1 user unknown", created_at=utcnow()))  # fmt: skip
    visit("subscribers", browser.get("/editor/subscribers"))
    visit("search", browser.get("/editor/subscribers", params={"q": "example"}))
    visit("search none", browser.get("/editor/subscribers", params={"q": "zzz"}))
    visit("search long", browser.get("/editor/subscribers", params={"q": "x" * 400}), 400)
    visit("search control", browser.get("/editor/subscribers", params={"q": "a\x01"}), 400)
    token = browser.csrf("/editor/subscribers")

    def upload(content: bytes) -> httpx.Response:
        return browser.post("/editor/subscribers/import", data={"csrf_token": token},
                            files={"file": ("readers.csv", content, "text/csv")})  # fmt: skip

    csv_data = (b"email,name\nnew@example.org,Ann\nnew@example.org,Ann\nwrong,X\n"
                b"a@example.org,Bob\n")  # fmt: skip
    with transaction(application.sessions) as session:
        gone = session.scalars(select(Subscriber).where(Subscriber.email == "a@example.org"))
        gone.one().status = "unsubscribed"
    report = visit("import", upload(csv_data))
    visit("import refused", upload(b"name\nno email column\n"), 400)
    visit("import unreadable", upload(b"email,name\na@example.org," + b"x" * 200_000), 400)
    visit("import no file", browser.post("/editor/subscribers/import",
                                         data={"csrf_token": token}), 400)  # fmt: skip
    extra = {f"field{n}": "x" for n in range(9)}  # the import's form has 5 fields at most
    visit("import too many fields", browser.post(
        "/editor/subscribers/import", data={"csrf_token": token, **extra},
        files={"file": ("readers.csv", b"email\n", "text/csv")}), 400)  # fmt: skip
    visit("suppressions", browser.get("/editor/suppressions"))
    with transaction(application.sessions) as session:
        session.execute(Suppression.__table__.delete())
    visit("no suppressions", browser.get("/editor/suppressions"))
    assert application.release.send(DAY).run.sent >= 1
    visit("read only", browser.get(f"/editor/editions/{DAY}"))
    visit("locked", browser.send(f"{items}/{ids[0]}", action="pin"), 409)
    visit("locked pause", browser.send(f"/editor/editions/{DAY}/hold", held="1"), 409)
    visit("recomposed", browser.send("/editor/editions", date=DAY.isoformat()))
    visit("sent list", browser.get("/editor/"))

    other = "en" if language == "fr" else "fr"
    foreign = fragments(other)
    data = sample_data(application)
    for name, answer in pages.items():
        assert f'<html lang="{language}">' in answer.text, name
        words = visible(answer.text, data)
        left = [f for f in foreign if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", words)]
        assert left == [], (name, left)
        if language == "en":
            assert not FRENCH_MARKS.search(words), (name, FRENCH_MARKS.search(words), words)

    # What the pages say, spot-checked in each language.
    expected = {
        "fr": {"login": "Connexion de la rédaction", "pinned": "Article épinglé.",
               "approved": "Approuvée par " + EDITOR,
               "import": "1 ajoutés, 1 mis à jour, 0 inchangés, 1 refusés, 1 lignes répétées "
                         "fusionnées, "
                         "1 laissés désabonnés ou en échec.",
               "up": "Cet article ne peut pas aller plus loin", "not found": "Cette page n’existe",
               "subscribers": "actifs", "signed out": "connectez-vous de nouveau",
               "read only": "lecture seule",
               "bad address": "«\u202fnot an address\u202f» n’est pas une adresse e-mail",
               "import too many fields": "Ce formulaire n’a pas pu être lu."},
        "en": {"login": "Newsroom sign-in", "pinned": "Article pinned.",
               "approved": "Approved by " + EDITOR,
               "import": "1 added, 1 updated, 0 unchanged, 1 rejected, 1 repeated lines merged, "
                         "1 left unsubscribed or bounced.",
               "up": "This item cannot move further", "not found": "This page does not exist",
               "subscribers": "awaiting confirmation", "signed out": "please sign in again",
               "read only": "read-only",
               "bad address": "“not an address” is not a valid email address",
               "import too many fields": "This form could not be read."},
    }[language]  # fmt: skip
    for name, words in expected.items():
        assert words in pages[name].text, (name, words)
    assert "line 4: invalid address" in report.text  # the import's own report, as the CLI's
    # The reader who chose sport has a personalised edition: its line counts its articles.
    assert re.search(r"<li>Sport\W+\d+ articles, \d", pages["composed"].text)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("size_level", ["near", "over"])
def test_the_preview_s_rare_branches_have_their_words(language: str, size_level: str) -> None:
    """Over budget, near or over Gmail's clipping, a render warning, personalised editions:
    the branches the sample day does not reach, rendered from the template."""
    from newsletter.render.templates import environment
    from newsletter.words import Phrase, usage_message

    t = word_table(language, "editors")
    clipped = Phrase("problems.html_clipped", size=120000, limit=102000)
    assert clipped == "the HTML is 120000 bytes; Gmail clips messages over about 102000 bytes"
    warning = usage_message(clipped, language)
    html = environment().get_template("pages/editor/edition.html.j2").render(
        title="Le Brief", t=t, lang=language, root="/editor", editor=EDITOR, csrf="x",
        csrf_field="csrf_token", flash=None, flash_error=None, day="2026-03-25",
        date="25", status="draft", status_label=t["status_draft"], draft=True, held=True,
        approved_by=None, approved_at=None, approved_version=None, version=3, history=[],
        cleared={"changer": "a@example.ma", "when": "1", "by": "b@example.ma", "version": 2},
        subject="S", preheader="P", subject_override="",
        preheader_override="", reading="6 min 00 s", budget="5 min 00 s", reading_percent=100,
        over_budget=True, html_kb="120.0", clip_kb=102, size_percent=100,
        size_level=size_level, warnings=[warning], text="", items=[], excluded=[],
        left_out=[], test_address=EDITOR, test_prefix="[TEST]",
        variants=[{"topics": "Sport", "articles": 4, "reading": "4 min 00 s"}],
        subject_max=200, preheader_max=300,
    )  # fmt: skip
    assert t["over_budget"] in html and t["send_held"] in html
    assert t["approval_cleared"].format(changer="a@example.ma", when="1", editor="b@example.ma",
                                        version=2) in html  # fmt: skip
    assert t["clip_near" if size_level == "near" else "clip_over"] in html
    assert t["variants"] in html and "4 articles" in html
    expected = {
        "fr": "Le HTML fait 120000 octets\u202f; Gmail coupe les messages au-delà d’environ "
              "102000 octets",
        "en": "The HTML is 120000 bytes; Gmail clips messages over about 102000 bytes",
    }[language]  # fmt: skip
    assert warning == expected and expected in html


# --- texts, limits and races on the editors' pages ---------------------------------------------
def test_the_editions_list_shows_the_article_count(signed_in: tuple[Browser, App]) -> None:
    """The list's article column is a number (Jinja's ``e.items`` was the dict's method)."""
    browser, application = signed_in
    count = len(composed(application))
    listed = browser.get("/editor/")
    assert listed.status_code == 200 and "built-in method" not in listed.text
    row = re.search(rf'<tr>\s*<td><a href="/editor/editions/{DAY}">.*?</tr>', listed.text, re.S)
    assert row and re.findall(r"<td>(\d+)</td>", row[0]) == [str(count)]
    preview = browser.get(f"/editor/editions/{DAY}")
    assert preview.status_code == 200 and "built-in method" not in preview.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_refusals_of_the_draft_s_texts_read_in_one_language(
    app: App, editor_settings: Settings, language: str
) -> None:
    """The subject and preheader limits are the form's ``maxlength`` (the server allowed
    1000 characters where the field said 200), and their refusals, an invalid test address
    and a pin outside the window are worded in the page's language alone (they read "The
    subject doit tenir sur une ligne", "invalid caractères")."""
    from datetime import datetime

    from newsletter.editions import decisions as editorial
    from newsletter.store.models import Article

    t = word_table(language, "editors")
    settings = editor_settings.model_copy(update={"language": language, "languages": ["fr"]})
    application = App(settings, engine=app.engine)
    application.ingest.sample(DAY)
    browser = Browser(create_app(application))
    assert browser.sign_in().status_code == 303
    ids = composed(application)
    texts = f"/editor/editions/{DAY}/texts"
    preview = browser.get(f"/editor/editions/{DAY}").text
    assert f'name="subject" value="" maxlength="{editorial.SUBJECT_MAX_CHARS}"' in preview
    assert f'name="preheader" value="" maxlength="{editorial.PREHEADER_MAX_CHARS}"' in preview
    refusals = [
        ({"subject": "a" * 201}, t["subject_too_long"].format(limit=200)),
        ({"subject": "a" * 1001}, t["subject_too_long"].format(limit=200)),
        ({"preheader": "a" * 301}, t["preheader_too_long"].format(limit=300)),
        ({"subject": "x\ny"}, t["subject_one_line"]),
        ({"preheader": "x\ry"}, t["preheader_one_line"]),
    ]
    english = ("must", "characters", "invalid", "published", "window", "edition)")
    french = ("doit", "caractères", "publié", "fenêtre", "ligne")
    foreign = french if language == "en" else english
    for fields, message in refusals:
        answer = browser.send(texts, **fields)
        assert answer.status_code == 400 and message in answer.text, fields
        assert not any(w in visible_message(answer.text) for w in foreign), fields
    assert application.drafts.get(DAY).subject_override in (None, "")
    for fields in ({"subject": "a" * 200}, {"preheader": "b" * 300}):
        assert browser.send(texts, **fields).status_code == 303
    edition = application.drafts.get(DAY)
    assert (edition.subject_override, edition.preheader_override) == ("a" * 200, "b" * 300)
    bad = browser.send(f"/editor/editions/{DAY}/test", email="é@@x y")
    assert bad.status_code == 400
    assert t["test_address_invalid"].format(address="é@@x y") in bad.text
    assert not any(w in visible_message(bad.text) for w in foreign)
    with transaction(application.sessions) as session:  # an article outside the window
        stale = session.scalars(select(Article).where(Article.id.not_in(ids))).first()
        assert stale is not None
        stale.published_at = datetime(2020, 1, 1, tzinfo=stale.published_at.tzinfo)
        stale_id = stale.id
    outside = browser.send(f"/editor/editions/{DAY}/items/{stale_id}", action="pin")
    assert outside.status_code == 400, outside.text[-800:]
    assert not any(w in visible_message(outside.text) for w in foreign), visible_message(
        outside.text
    )


def visible_message(html: str) -> str:
    """The refusal's message: the error page's heading."""
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, html[-600:]
    return match[1]


def test_an_edition_released_while_the_editor_decides_is_refused_in_words(
    signed_in: tuple[Browser, App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page checks that the edition is a draft, then the use case checks again: when it
    went out in between (the scheduler), approve and hold answer 409 in the page's words,
    not a 500 with the use case's English."""
    from newsletter.editions import decisions as editorial

    browser, application = signed_in
    composed(application)
    token = browser.csrf()
    assert application.release.send(DAY).run.sent >= 1
    monkeypatch.setattr(editorial, "is_draft", lambda edition: True)  # the page's check passed
    for path, fields in (("approve", {}), ("hold", {"held": "1"})):
        answer = browser.post(f"/editor/editions/{DAY}/{path}", data={"csrf_token": token,
                                                                       **fields})  # fmt: skip
        assert answer.status_code == 409, (path, answer.text[-500:])
        assert "déjà partie" in answer.text and "already" not in answer.text
    edition = application.drafts.get(DAY)
    assert edition.approved_at is None and not edition.held
