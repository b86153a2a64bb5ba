"""`newsletter report`: an edition's figures after a real send (file provider), with a
bounce and a complaint through the DSN/ARF import, an unsubscribe through the RFC 8058
one-click POST, a click through the redirect, a failure and a delivery left in doubt."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select, update

from newsletter.store.models import Delivery, Edition, EditionItem
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.conftest import run_cli
from tests.test_web import TestClient

DAY = date(2026, 3, 25)
SAMPLES = Path(__file__).parent / "data" / "dsn"
# a@ bounces (postfix-user-unknown), b@ complains (arf-abuse-feedback-loop), c@ unsubscribes
READERS = ("a@example.org", "b@example.org", "c@example.org", "d@example.org",
           "failed@example.org", "doubt@example.org")  # fmt: skip


def sent_edition(app: App) -> dict[str, bytes]:
    """The sample edition sent to READERS (file provider): each message by address."""
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for email in READERS:
            add_subscriber(session, SubscriberRecord(email), source="test")
    assert app.release.send(DAY).run.sent == len(READERS)
    messages = {}
    for path in (app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"):
        raw = path.read_bytes()
        message = message_from_bytes(raw, policy=policy.default)
        messages[message["To"].addresses[0].addr_spec] = raw
    return messages


def test_report_counts_what_happened_after_the_send(app: App, tmp_path: Path) -> None:
    messages = sent_edition(app)
    env = dict(os.environ)
    # a bounce (DSN) and a complaint (ARF), through `newsletter bounces import`
    for name in ("postfix-user-unknown.eml", "arf-abuse-feedback-loop.eml"):
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    imported = run_cli(
        "bounces", "import", str(tmp_path / "postfix-user-unknown.eml"),
        str(tmp_path / "arf-abuse-feedback-loop.eml"), env=env, cwd=tmp_path,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    # an unsubscribe (RFC 8058 one-click) and a click, through the web app
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    message = message_from_bytes(messages["c@example.org"], policy=policy.default)
    unsubscribe = re.search(r"<http://localhost:8000(/u/[^>]+)>", str(message["List-Unsubscribe"]))
    assert unsubscribe is not None
    answer = client.post(unsubscribe[1], data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    first_link = re.search(r'href="http://localhost:8000(/r/[^"]+)"', html)
    assert first_link is not None
    assert client.get(first_link[1]).status_code == 302
    # a failure, and a delivery handed over by a worker that died (in doubt)
    with app.sessions.begin() as session:
        session.execute(
            update(Delivery).where(Delivery.email == "failed@example.org").values(status="failed")
        )
        session.execute(
            update(Delivery)
            .where(Delivery.email == "doubt@example.org")
            .values(status="sending", claimed_by="gone")
        )
    result = run_cli("report", "--date", DAY.isoformat(), "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    clicks = report.pop("clicks")
    assert report == {
        "date": "2026-03-25", "recipients": 6, "sent": 4, "failed": 1, "bounced": 1,
        "complained": 1, "unsubscribed": 1, "in_doubt": 1,
    }  # fmt: skip
    assert clicks["total"] == 1
    by_item = clicks["by_item"]
    assert set(by_item[0]) == {"article_id", "title", "url", "clicks"}
    assert by_item[0]["clicks"] == 1 and all(item["clicks"] == 0 for item in by_item[1:])
    assert isinstance(by_item[0]["article_id"], int) and by_item[0]["url"].startswith("http")
    text = run_cli("report", "--date", DAY.isoformat(), env=env, cwd=tmp_path)
    assert text.returncode == 0 and "bounced      1" in text.stdout


def test_report_of_a_missing_edition_and_a_bad_date(app: App, tmp_path: Path) -> None:
    env = dict(os.environ)
    app.init_db()
    missing = run_cli("report", "--date", "2026-01-01", "--json", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "no edition for 2026-01-01" in missing.stderr
    bad = run_cli("report", "--date", "2026-13-01", env=env, cwd=tmp_path)
    assert bad.returncode == 2


# --- the editors' view of a send ------------------------------------------------------------
from tests.test_web_editor import Browser, editor_settings, signed_in, site  # noqa: E402, F401


def test_editors_follow_pause_and_resume_a_send(
    signed_in: tuple[Browser, App],  # noqa: F811 (the imported fixture)
) -> None:
    browser, application = signed_in
    application.composer.compose(DAY)
    assert application.release.send(DAY).run.sent == 3
    edition = application.drafts.get(DAY)
    assert edition is not None
    with application.sessions.begin() as session:  # a send under way: one row failed, one left
        session.execute(update(Edition).where(Edition.id == edition.id).values(status="sending"))
        session.execute(
            update(Delivery)
            .where(Delivery.email == "a@example.org")
            .values(status="failed", last_code=550, last_error="5.1.1 user unknown")
        )
        session.execute(
            update(Delivery).where(Delivery.email == "b@example.org").values(status="pending")
        )
    assert 'id="send-link"' in browser.get(f"/editor/editions/{DAY}").text
    page = browser.get(f"/editor/editions/{DAY}/send")
    assert page.status_code == 200
    assert "5.1.1 user unknown" in page.text and "550" in page.text  # failures, with reasons
    assert 'id="pause"' in page.text and 'id="resume"' not in page.text
    assert f'src="/editor/editions/{DAY}/send/live"' in page.text
    live = browser.get(f"/editor/editions/{DAY}/send/live")
    assert live.status_code == 200 and '<meta http-equiv="refresh" content="5">' in live.text
    assert live.headers["x-frame-options"] == "SAMEORIGIN"
    assert re.search(r'id="sent">1<', live.text) and re.search(r'id="failed">1<', live.text)
    assert re.search(r'id="pending">1<', live.text)
    figures = browser.get(f"/editor/editions/{DAY}/send.json").json()
    assert figures["status"]["edition_status"] == "sending" and figures["status"]["failed"] == 1
    assert figures["report"]["recipients"] == 3 and figures["report"]["failed"] == 1
    # pause and resume: CSRF first, then the use case of `newsletter pause` / `resume`
    refused = browser.post(f"/editor/editions/{DAY}/pause", data={})
    assert refused.status_code == 403 and application.drafts.get(DAY).status == "sending"
    paused = browser.send(f"/editor/editions/{DAY}/pause")
    assert paused.status_code == 303 and application.drafts.get(DAY).status == "paused"
    assert 'id="resume"' in browser.get(paused.headers["location"]).text
    again = browser.send(f"/editor/editions/{DAY}/pause")
    assert "pas en cours d’envoi" in browser.get(again.headers["location"]).text
    resumed = browser.send(f"/editor/editions/{DAY}/resume")
    assert resumed.status_code == 303 and application.drafts.get(DAY).status == "sending"
    assert browser.get("/editor/editions/2026-01-01/send").status_code == 404


def test_the_send_pages_need_an_editor(
    site: tuple[Browser, App],  # noqa: F811 (the imported fixture)
) -> None:
    browser, application = site
    application.composer.compose(DAY)
    answer = browser.get(f"/editor/editions/{DAY}/send")
    assert answer.status_code == 303 and "/editor/login" in answer.headers["location"]
    assert browser.get(f"/editor/editions/{DAY}/send.json").status_code == 303
    assert browser.post(f"/editor/editions/{DAY}/pause", data={}).status_code == 401


def test_the_30_days_are_drawn_as_charts(
    signed_in: tuple[Browser, App],  # noqa: F811 (the imported fixture)
) -> None:
    browser, application = signed_in
    today = application.today()
    application.ingest.sample(today)
    application.composer.compose(today)
    assert application.release.send(today, early=True).run.sent == 3
    with application.sessions() as session:
        item_id = session.scalars(select(EditionItem.id).order_by(EditionItem.id)).first()
        edition_id = session.scalars(select(Edition.id).where(Edition.date == today)).one()
    for _ in range(2):  # two clicks through the redirect
        token = application.links.click_token(edition_id, item_id, 0)
        assert browser.get(f"/r/{token}").status_code == 302
    days = application.reports.days(today)
    assert len(days) == 30 and days[-1].day == today
    assert sum(d.sends for d in days) == 3 and sum(d.clicks for d in days) == 2
    page = browser.get("/editor/numbers")
    assert page.status_code == 200
    assert page.text.count("<svg") == 6 and "<table" not in page.text  # pictures, not tables
    for key in ("sends", "bounces", "complaints", "unsubscribes", "signups", "clicks"):
        assert f'id="chart-{key}"' in page.text
    sends = page.text.split('id="chart-sends"')[1].split("</figure>")[0]
    assert sends.count("<rect") == 30 and "<title>3</title>" in sends
    assert 'height="72.0"' in sends and ">5</text>" in sends  # 3 on an axis up to 5


def test_axis_tops_are_round() -> None:
    from newsletter.web.editor_send import nice_top

    assert [nice_top(n) for n in (0, 1, 2, 3, 6, 11, 49, 51, 1000, 1001)] == [
        1, 1, 2, 5, 10, 20, 50, 100, 1000, 2000,
    ]  # fmt: skip
