"""Large imports through the editors' page run in the background: the request answers at
once with the import's page, which shows the progress (from the database: a reload sees
it) and reloads itself until the report; a second import waits for the first; an import
whose process stopped reads as interrupted, never "running" forever."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from newsletter.config.settings import Settings
from newsletter.store.models import Subscriber, SubscriberImport
from newsletter.timeutil import utcnow
from newsletter.web import editor_audience
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.test_web_editor import EDITOR, HASH, Browser

ROWS = 5000


def signed_in(app: App, settings: Settings) -> Browser:
    application = App(settings.model_copy(update={"editors": {EDITOR: HASH}}), engine=app.engine)
    browser = Browser(create_app(application))
    assert browser.sign_in().status_code == 303
    return browser


def upload(browser: Browser, content: bytes, name: str = "big.csv") -> object:
    token = browser.csrf("/editor/subscribers")
    return browser.post("/editor/subscribers/import", data={"csrf_token": token},
                        files={"file": (name, content, "text/csv")})  # fmt: skip


def test_a_large_import_runs_in_the_background_with_progress(
    app: App, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(editor_audience, "IMPORT_WAIT", 0.0)
    browser = signed_in(app, settings)
    lines = ["email;name;topics"] + [f"r{n}@example.org;Lecteur {n};sport" for n in range(ROWS)]
    lines.append("bad@example.org;X;astrologie")
    started = time.monotonic()
    answer = upload(browser, "\n".join(lines).encode())
    assert time.monotonic() - started < 30
    assert answer.status_code == 303  # type: ignore[attr-defined]
    location = answer.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/editor/subscribers/imports/")
    for _ in range(600):
        page = browser.get(location)
        assert page.status_code == 200
        if "Refresh" not in page.headers:
            break
        assert 'id="import-progress"' in page.text and "<progress" in page.text
        time.sleep(0.1)
    assert "Refresh" not in page.headers and "Terminé" in page.text
    assert f"{ROWS} lignes sur {ROWS}" in page.text and "astrologie" in page.text
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == ROWS
        [job] = session.scalars(select(SubscriberImport)).all()
        assert (job.status, job.total, job.processed) == ("done", ROWS, ROWS)
        assert job.report["added"] == ROWS and job.report["rejected_count"] == 1
    # The subscribers' page lists the import; a reload of its page shows the same report.
    assert location in browser.get("/editor/subscribers").text
    assert "Terminé" in browser.get(location).text


def test_a_small_import_answers_with_its_report_and_a_second_waits(
    app: App, settings: Settings
) -> None:
    browser = signed_in(app, settings)
    answer = upload(browser, b'email,name\na@example.org,Anne\nb@example.org,"Doe, ""B"""\n')
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert 'id="import-report"' in answer.text  # type: ignore[attr-defined]
    with app.sessions() as session:
        names = dict(session.execute(select(Subscriber.email, Subscriber.name)).all())
    assert names == {"a@example.org": "Anne", "b@example.org": 'Doe, "B"'}
    refused = upload(browser, b"name\nno email column\n")
    assert refused.status_code == 400 and "email" in refused.text  # type: ignore[attr-defined]

    with app.sessions.begin() as session:  # another import, still beating
        now = utcnow()
        session.add(SubscriberImport(label="other.csv", status="running", total=10, processed=3,
                                     report={}, created_at=now, heartbeat_at=now))  # fmt: skip
    busy = upload(browser, b"email\nc@example.org\n")
    assert busy.status_code == 409  # type: ignore[attr-defined]


def test_an_import_whose_process_stopped_reads_as_interrupted(app: App, settings: Settings) -> None:
    browser = signed_in(app, settings)
    with app.sessions.begin() as session:
        stale = utcnow() - timedelta(minutes=10)
        job = SubscriberImport(label="gone.csv", status="running", total=100, processed=40,
                               report={}, created_at=stale, heartbeat_at=stale)  # fmt: skip
        session.add(job)
        session.flush()
        job_id = job.id
    page = browser.get(f"/editor/subscribers/imports/{job_id}")
    assert (
        page.status_code == 200 and "Interrompu" in page.text and "40 lignes sur 100" in page.text
    )
    assert "Refresh" not in page.headers
    assert upload(browser, b"email\nc@example.org\n").status_code == 200  # type: ignore[attr-defined]
    assert browser.get("/editor/subscribers/imports/999999").status_code == 404
    assert browser.get("/editor/subscribers/imports/x").status_code == 404
