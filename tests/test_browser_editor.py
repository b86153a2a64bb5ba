"""An editor's morning in a real browser: Playwright drives Debian's Chromium against the
real server (uvicorn on a free port, SQLite): sign in, compose the sample day's draft,
preview it at desktop and phone widths, pin an item, approve, and check the database; in
French, then with ``language = "en"`` in English.

Skipped with a reason when Chromium (/usr/bin/chromium) or the playwright package is
absent; never downloads a browser. With ``UPDATE_SCREENSHOTS=1`` it also writes
``docs/screenshots/editor-preview.png`` (the README's picture); otherwise the screenshot
goes to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from newsletter.config.settings import load_settings
from newsletter.store.db import make_engine
from newsletter.web.app import create_app
from newsletter.web.passwords import hash_password
from newsletter.wiring import App
from tests.conftest import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
DAY = date(2026, 3, 25)
EDITOR = "redaction@example.ma"
PASSWORD = "un mot de passe assez long"
#: What the editor reads and clicks, in each language (written out here, not taken from
#: the pages' word tables, so that a wrong word there fails).
WORDS = {
    "fr": {
        "email": "Adresse e-mail", "password": "Mot de passe", "sign_in": "Se connecter",
        "wrong": "Adresse ou mot de passe incorrect.", "compose": "Composer",
        "pin": "Épingler", "pinned": "Article épinglé.", "approve": "Approuver l’envoi",
        "approved": "Édition approuvée.", "approved_by": "Approuvée par",
    },
    "en": {
        "email": "Email address", "password": "Password", "sign_in": "Sign in",
        "wrong": "Wrong address or password.", "compose": "Compose", "pin": "Pin",
        "pinned": "Article pinned.", "approve": "Approve the send",
        "approved": "Edition approved.", "approved_by": "Approved by",
    },
}  # fmt: skip

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
)


@pytest.fixture(params=["fr", "en"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, App]]:
    """The whole web app served by uvicorn in a thread, in each language; yields (base
    URL, application)."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'b.db'}")
    monkeypatch.setenv("NEWSLETTER_BASE_URL", base)
    settings = load_settings(  # the sample's articles are French, whatever the pages' words
        editors={EDITOR: hash_password(PASSWORD)}, language=request.param, languages=["fr"]
    )
    application = App(settings, engine=make_engine(settings.effective_database_url))
    application.init_db()
    application.ingest.sample(DAY)
    config = uvicorn.Config(create_app(application), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")  # fmt: skip
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield base, application
    finally:
        web.should_exit = True
        thread.join(timeout=10)
        application.engine.dispose()


def test_editor_previews_pins_and_approves(server: tuple[str, App]) -> None:
    base, application = server
    language = application.settings.language
    words = WORDS[language]
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1250})
            # Signed out, the editors' home sends to the sign-in form.
            page.goto(f"{base}/editor/")
            assert "/editor/login" in page.url
            assert page.locator("html").get_attribute("lang") == language
            page.get_by_label(words["email"]).fill(EDITOR)
            page.get_by_label(words["password"]).fill("pas le bon mot de passe")
            page.get_by_role("button", name=words["sign_in"]).click()
            assert page.get_by_text(words["wrong"]).is_visible()
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["sign_in"]).click()
            page.wait_for_url(f"{base}/editor/")
            assert page.get_by_text(EDITOR).is_visible()

            # Compose the sample day's draft: the preview opens.
            page.locator("input[name=date]").fill(DAY.isoformat())
            page.get_by_role("button", name=words["compose"], exact=True).click()
            page.wait_for_url(f"{base}/editor/editions/{DAY.isoformat()}")
            edition = application.drafts.get(DAY)
            assert edition is not None and len(edition.items) >= 3
            subject = edition.subject
            assert page.locator("#subject").inner_text() == subject

            # The email itself, in both frames, at their widths.
            frames = page.locator("iframe")
            assert frames.count() == 2
            widths = []
            for index in range(2):
                handle = frames.nth(index).element_handle()
                assert handle is not None
                frame = handle.content_frame()
                assert frame is not None
                frame.wait_for_load_state()
                assert edition.items[0].title in frame.locator("body").inner_text()
                widths.append(frame.evaluate("document.documentElement.clientWidth"))
            assert widths[0] >= 600 and widths[1] <= 375

            # Pin the third item: it leads the edition.
            third = edition.items[2].article_id
            page.get_by_role("button", name=f"{words['pin']} #{third}", exact=True).click()
            page.wait_for_load_state()
            assert page.get_by_text(words["pinned"]).is_visible()
            first_row = page.locator("#items tbody tr").first
            assert first_row.get_attribute("data-article") == str(third)

            shot = ROOT / "test-artifacts" / f"editor-preview-{language}.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
            if os.environ.get("UPDATE_SCREENSHOTS") == "1" and language == "fr":
                page.screenshot(path=str(ROOT / "docs" / "screenshots" / "editor-preview.png"))

            # Approve the send.
            page.get_by_role("button", name=words["approve"]).click()
            page.wait_for_load_state()
            assert page.get_by_text(words["approved"]).is_visible()
            assert page.get_by_text(f"{words['approved_by']} {EDITOR}").is_visible()
        finally:
            browser.close()

    stored = application.drafts.get(DAY)
    assert stored is not None
    assert stored.pins == [third] and stored.items[0].article_id == third
    assert stored.approved_by == EDITOR and stored.approved_at is not None
    assert stored.status == "draft" and not stored.held
