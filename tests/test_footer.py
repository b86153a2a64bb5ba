"""The email's footer and look from the settings (logo, colours, links, postal address),
templates replaced from NEWSLETTER_TEMPLATES_DIR, and the rule that a real list is never
mailed with the example postal address (the demo's readers and a file outbox may be)."""

from __future__ import annotations

import os
import re
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from newsletter.editions.footer import EXAMPLE_POSTAL_ADDRESS
from newsletter.store.models import Edition
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.conftest import RecordingHandler, run_cli

DAY = date(2026, 3, 25)


def readers(app: App, source: str = "test") -> None:
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for email in ("a@example.org", "b@example.org"):
            add_subscriber(session, SubscriberRecord(email), source=source)


def smtp_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(NEWSLETTER_PROVIDER="smtp", NEWSLETTER_SMTP_HOST="127.0.0.1",
               NEWSLETTER_SMTP_PORT=str(port))  # fmt: skip
    env.pop("NEWSLETTER_POSTAL_ADDRESS")  # the shipped example
    return env


def edition_status(app: App) -> str:
    with app.sessions() as session:
        return session.query(Edition.status).filter_by(date=DAY).scalar() or "none"


def test_send_refuses_a_real_list_with_the_example_address(
    app: App, smtp_server: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, port = smtp_server
    readers(app)
    refused = run_cli("send", "--date", DAY.isoformat(), env=smtp_env(port), cwd=tmp_path)
    assert refused.returncode == 2
    assert "NEWSLETTER_POSTAL_ADDRESS" in refused.stderr and "postal_address" in refused.stderr
    assert handler.messages == [] and edition_status(app) != "sent"
    env = {**smtp_env(port), "NEWSLETTER_POSTAL_ADDRESS": "Le Brief, 3 rue Réelle, Rabat"}
    sent = run_cli("send", "--date", DAY.isoformat(), env=env, cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert len(handler.messages) == 2 and b"3 rue R" in handler.messages[0].data


def test_the_demo_may_keep_the_example(
    app: App, smtp_server: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, port = smtp_server
    readers(app, source="demo")
    demo = run_cli("send", "--date", DAY.isoformat(), env=smtp_env(port), cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert len(handler.messages) == 2


def test_a_file_outbox_may_keep_the_example(app: App) -> None:
    example = app.settings.model_copy(update={"postal_address": EXAMPLE_POSTAL_ADDRESS})
    readers(App(example, engine=app.engine), source="web")  # real readers, but a file outbox
    assert App(example, engine=app.engine).release.send(DAY).run.sent == 2


def test_footer_and_colours_come_from_the_settings(app: App) -> None:
    settings = app.settings.model_copy(
        update={
            "accent_color": "#0a5c8a", "logo_url": "https://www.example.ma/logo.png",
            "footer_links": {"Le site": "https://www.example.ma/", "Mentions légales":
                             "https://www.example.ma/mentions"},
        }
    )  # fmt: skip
    branded = App(settings, engine=app.engine)
    readers(branded)
    assert branded.release.send(DAY).run.sent == 2
    path = next((branded.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"))
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "#0a5c8a" in html and "#b3261e" not in html
    assert '<img src="https://www.example.ma/logo.png" alt="Le Brief"' in html
    assert re.search(r'<a href="https://www.example.ma/mentions"[^>]*>Mentions légales</a>', html)
    assert "Mentions légales : https://www.example.ma/mentions" in text
    assert "12 rue des Tests" in html and "12 rue des Tests" in text


def test_templates_are_replaced_from_a_folder(app: App, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "email").mkdir(parents=True)
    (folder / "email" / "edition.txt.j2").write_text(
        "NOTRE GABARIT {{ title }}\n{{ personal.unsubscribe_url }}\n{{ postal_address }}\n",
        encoding="utf-8",
    )
    mine = App(app.settings.model_copy(update={"templates_dir": folder}), engine=app.engine)
    readers(mine)
    assert mine.release.send(DAY).run.sent == 2
    path = next((mine.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"))
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("NOTRE GABARIT Le Brief") and "/u/" in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<!DOCTYPE html>" in html  # the shipped HTML template, not replaced


def test_branding_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config.settings import ConfigError, load_settings

    for name, value in (
        ("NEWSLETTER_ACCENT_COLOR", "red"), ("NEWSLETTER_LOGO_URL", "http://x.example/l.png"),
        ("NEWSLETTER_TEMPLATES_DIR", "/nonexistent"),
        ("NEWSLETTER_FOOTER_LINKS", '{"site": "javascript:alert(1)"}'),
    ):  # fmt: skip
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=name):
            load_settings()
        monkeypatch.delenv(name)
