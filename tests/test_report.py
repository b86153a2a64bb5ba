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

from sqlalchemy import update

from newsletter.store.models import Delivery
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
