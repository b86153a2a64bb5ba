"""The newsroom's numbers in a real browser: Playwright drives Debian's Chromium against the
real server (uvicorn on a free port, SQLite). An editor follows a send under way (the live
figures refresh by themselves), pauses it, resumes it, then reads the last 30 days as
charts.

Skipped with a reason when Chromium (/usr/bin/chromium) or the playwright package is
absent. With ``UPDATE_SCREENSHOTS=1`` it writes ``docs/screenshots/send-progress.png`` and
``docs/screenshots/numbers-30-days.png`` (the README's pictures); otherwise the
screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from newsletter.config.settings import load_settings
from newsletter.store.db import make_engine
from newsletter.store.models import ClickCount, Delivery, Edition, EditionItem, ProviderEvent
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.web.passwords import hash_password
from newsletter.wiring import App
from tests.conftest import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
EDITOR = "redaction@example.ma"
PASSWORD = "un mot de passe assez long"
READERS = 60

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
)


def shoot(page: object, name: str) -> None:
    shot = ROOT / "test-artifacts" / f"{name}.png"
    shot.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(shot))  # type: ignore[attr-defined]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(ROOT / "docs" / "screenshots" / f"{name}.png"))  # type: ignore[attr-defined]


def a_month(application: App) -> None:
    """Today's edition half sent to READERS (some failed, deferred, in doubt), with clicks;
    and 30 days of sends, bounces, complaints, sign-ups and unsubscribes behind it."""
    today = application.today()
    application.ingest.sample(today)
    application.composer.compose(today)
    with application.sessions.begin() as session:
        for n in range(READERS):
            add_subscriber(session, SubscriberRecord(f"lecteur{n}@example.org"), source="web")
    assert application.release.send(today, early=True).run.sent == READERS
    now = datetime.now(UTC)
    with application.sessions.begin() as session:
        edition = session.scalars(select(Edition).where(Edition.date == today)).one()
        session.execute(update(Edition).where(Edition.id == edition.id).values(status="sending"))
        ids = session.scalars(select(Delivery.id).order_by(Delivery.id)).all()
        for index, delivery_id in enumerate(ids):
            values: dict[str, object] = {"sent_at": now - timedelta(days=index % 30, seconds=20)}
            if index >= 25:
                values = {"status": "pending", "sent_at": None}
            if index in (40, 41):
                values = {"status": "failed", "last_code": 550,
                          "last_error": "5.1.1 <lecteur@example.org>: user unknown"}  # fmt: skip
            if index == 42:
                values = {"status": "deferred", "last_code": 421,
                          "last_error": "4.7.0 try again later"}  # fmt: skip
            session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
        for day in range(30):
            for kind, count in (("hard_bounce", day % 3), ("complaint", day % 7 == 0)):
                for k in range(int(count)):
                    session.add(ProviderEvent(
                        provider="file", event_key=f"{kind}-{day}-{k}", kind=kind,
                        email_key=f"lecteur{k}@example.org", detail=None,
                        received_at=now - timedelta(days=day),
                    ))  # fmt: skip
        items = session.scalars(
            select(EditionItem.id).where(EditionItem.edition_id == edition.id)
        ).all()
        for rank, item_id in enumerate(items[:6]):
            session.add(ClickCount(edition_id=edition.id, item_id=item_id, clicks=30 - 4 * rank,
                                   last_clicked_at=now))  # fmt: skip


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, App]]:
    """The web app served by uvicorn in a thread; yields (base URL, application)."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'b.db'}")
    monkeypatch.setenv("NEWSLETTER_BASE_URL", base)
    settings = load_settings(editors={EDITOR: hash_password(PASSWORD)})
    application = App(settings, engine=make_engine(settings.effective_database_url))
    application.init_db()
    a_month(application)
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


def test_an_editor_follows_a_send_and_reads_the_month(server: tuple[str, App]) -> None:
    base, application = server
    today = application.today().isoformat()
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(f"{base}/editor/editions/{today}/send")
            page.get_by_label("Adresse e-mail").fill(EDITOR)
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(f"{base}/editor/editions/{today}/send")
            live = page.frame_locator("#live")
            assert live.locator("#sent").inner_text() == "25"
            assert live.locator("#failed").inner_text() == "2"
            assert page.get_by_text("5.1.1 <lecteur@example.org>: user unknown").first.is_visible()
            shoot(page, "send-progress")

            # The figures refresh by themselves: five more messages go, nobody reloads.
            with application.sessions.begin() as session:
                pending = session.scalars(
                    select(Delivery.id).where(Delivery.status == "pending").limit(5)
                ).all()
                session.execute(update(Delivery).where(Delivery.id.in_(pending))
                                .values(status="sent", sent_at=datetime.now(UTC)))  # fmt: skip
            page.wait_for_timeout(6500)
            assert live.locator("#sent").inner_text() == "30"

            page.get_by_role("button", name="Mettre l’envoi en pause").click()
            page.wait_for_load_state()
            assert page.get_by_text("Envoi mis en pause.").is_visible()
            assert application.drafts.get(application.today()).status == "paused"  # type: ignore[union-attr]
            page.get_by_role("button", name="Reprendre l’envoi").click()
            page.wait_for_load_state()
            assert application.drafts.get(application.today()).status == "sending"  # type: ignore[union-attr]

            page.get_by_role("link", name="Chiffres").click()
            page.wait_for_url(f"{base}/editor/numbers")
            assert page.locator("svg").count() == 6 and page.locator("table").count() == 0
            sends = page.locator("#chart-sends rect")
            assert sends.count() == 30
            shoot(page, "numbers-30-days")
        finally:
            browser.close()
