"""A new reader in a real browser (Playwright driving Debian's Chromium) against the real
server (`newsletter serve` in a subprocess, file provider): subscribe -> open the
confirmation link from the outbox -> confirm -> preferences from an edition's link (topics,
frequency, format, pause, time zone) -> unsubscribe, checking the database at each step.

The preferences page's screenshot goes to test-artifacts/preferences.png, and to
docs/screenshots/preferences.png (the README's) when UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port
from sqlalchemy import select

from newsletter.config.settings import load_settings
from newsletter.store.db import make_engine
from newsletter.store.models import Subscriber
from newsletter.wiring import App

CHROMIUM = Path("/usr/bin/chromium")
DAY = date(2026, 3, 25)
#: Seconds to wait for the server to answer and for the confirmation email (not a timing
#: assertion: a deadline after which the test fails instead of hanging).
DEADLINE = 60

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is absent")
if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def served(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, App]]:
    """`newsletter serve` on a free port, and an App on the same database and outbox."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSLETTER_BASE_URL", base)
    monkeypatch.setenv("NEWSLETTER_PROVIDER", "file")
    settings = load_settings()
    app = App(settings, engine=make_engine(settings.effective_database_url))
    app.init_db()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "newsletter.cli", "serve", "--port", str(port)],
        env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if httpx.get(f"{base}/subscribe", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start: " + (tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        yield base, app
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        app.engine.dispose()


def reader(app: App) -> Subscriber:
    with app.sessions() as session:
        return session.scalars(select(Subscriber)).one()


def wait_for_confirmation(app: App) -> str:
    """The confirmation link of the one email in the outbox (written after the answer)."""
    folder = app.settings.effective_outbox_dir / "confirmations"
    deadline = time.monotonic() + DEADLINE
    while not (folder.is_dir() and list(folder.glob("*.eml"))):
        assert time.monotonic() < deadline, "no confirmation email"
        time.sleep(0.1)
    [path] = folder.glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://\S+/c/\S+", text)[0]


def test_a_reader_subscribes_confirms_chooses_and_leaves(
    served: tuple[str, App], tmp_path: Path
) -> None:
    base, app = served
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--lang=fr-FR"]
        )
        try:
            page = browser.new_page(viewport={"width": 720, "height": 900}, locale="fr-FR")
            # 1. Subscribe with a topic.
            page.goto(f"{base}/subscribe")
            page.get_by_label("Adresse e-mail").fill("lectrice@example.org")
            page.get_by_label("Culture").check()
            page.get_by_role("button", name="M’abonner").click()
            page.get_by_role("heading", name="Vérifiez votre boîte").wait_for()
            link = wait_for_confirmation(app)
            assert reader(app).status == "pending" and reader(app).topics == ["culture"]

            # 2. The link shows a button; only the click confirms.
            assert link.startswith(base + "/c/")
            page.goto(link)
            assert reader(app).status == "pending"
            page.get_by_role("button", name="Confirmer mon abonnement").click()
            page.get_by_role("heading", name="Abonnement confirmé").wait_for()
            assert reader(app).status == "active"

            # 3. The first edition arrives; its "preferences" link opens the page.
            app.ingest.sample(DAY)
            assert app.release.send(DAY).run.sent == 1
            [sent] = (app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml")
            edition = message_from_bytes(sent.read_bytes(), policy=policy.default)
            text = edition.get_body(preferencelist=("plain",)).get_content()
            preferences = re.search(rf"{re.escape(base)}/p/\S+", text)[0]
            page.goto(preferences)
            page.get_by_role("heading", name="Vos préférences").wait_for()
            assert page.get_by_label("Culture").is_checked()
            assert page.get_by_label("Chaque jour").is_checked()

            # 4. Change topics, frequency, format, pause and time zone, then save.
            page.get_by_label("Culture").uncheck()
            page.get_by_label("Sport").check()
            page.get_by_label("Économie").check()
            page.get_by_label("Une fois par semaine, le").first.check()
            page.locator("select[name=weekday]").select_option(label="samedi")
            page.get_by_label("Texte seul").check()
            resume = app.today() + timedelta(days=14)
            page.get_by_label("Reprendre l’envoi le").fill(resume.isoformat())
            page.locator("select[name=timezone]").select_option("Europe/Paris")
            page.get_by_role("button", name="Enregistrer").click()
            page.get_by_role("status").wait_for()
            assert "Vos préférences sont enregistrées" in page.get_by_role("status").inner_text()
            saved = reader(app)
            assert saved.topics == ["economie", "sport"] and saved.frequency == "weekly"
            assert (saved.weekday, saved.format) == (5, "text")
            assert (saved.paused_until, saved.timezone) == (resume, "Europe/Paris")
            assert page.get_by_label("Texte seul").is_checked()  # the page shows what is saved

            shots = [ROOT / "test-artifacts" / "preferences.png"]
            if os.environ.get("UPDATE_SCREENSHOTS"):
                shots.append(ROOT / "docs" / "screenshots" / "preferences.png")
            for shot in shots:
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000

            # 5. A date in the past: the browser itself refuses to send the form (the date
            #    field's minimum is tomorrow; the server checks it too, see
            #    test_reader_pages), and nothing changes.
            field = page.get_by_label("Reprendre l’envoi le")
            field.fill("2001-01-01")
            page.get_by_role("button", name="Enregistrer").click()
            assert field.evaluate("element => element.validity.rangeUnderflow")
            assert page.get_by_role("alert").count() == 0
            assert reader(app).paused_until == resume

            # 6. Unsubscribe from the preferences page.
            page.get_by_role("button", name="Ne plus rien recevoir").click()
            page.get_by_role("heading", name="Vous êtes désabonné·e").wait_for()
            assert reader(app).status == "unsubscribed"
        finally:
            browser.close()
