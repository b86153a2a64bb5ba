"""Text direction: an Arabic item renders with ``dir="rtl"`` in the email and on the
archive's page, a French one left to right, a text with no strong character ``auto``; a
feed's explicit directional formatting characters (U+202E reverses what follows it) are
removed at ingest and again at render (Unicode UAX #9)."""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.render.direction import first_strong, item_direction, language_direction
from newsletter.render.edition import RenderEdition, RenderItem, render_edition
from newsletter.store.models import Article
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.textutil import strip_bidi_controls
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.test_web import DAY, TestClient

ARABIC_TITLE = "المغرب يطلق برنامجا جديدا للطاقة الشمسية في 2026"
FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Mixte</title><link>https://example.ma/</link>
<item><title>{ARABIC_TITLE}</title><link>https://example.ma/ar/1</link>
<description>أعلنت الحكومة عن خطة لتوليد 52% من الكهرباء من مصادر متجددة.</description>
<category>economie</category><pubDate>Tue, 24 Mar 2026 20:00:00 +0000</pubDate></item>
<item><title>Le budget \u202eest voté\u202c à l'Assemblée \u2067nationale\u2069</title>
<link>https://example.ma/fr/2</link>
<description>Un vote \u202dserré\u202c, \u200fenfin.</description>
<category>politique</category><pubDate>Tue, 24 Mar 2026 21:00:00 +0000</pubDate></item>
</channel></rss>"""


def h2_dirs(markup: str) -> dict[str, str]:
    """The ``dir`` of each item title, by the title's text."""
    found = re.findall(r'<h2[^>]*dir="(\w+)"[^>]*><a[^>]*>([^<]+)</a>', markup)
    return {title: direction for direction, title in found}


def test_an_rtl_item_renders_with_dir_in_the_email_and_the_archive(
    app: App, tmp_path: Path
) -> None:
    feed = tmp_path / "mixte.xml"
    feed.write_text(FEED, encoding="utf-8")
    [report] = app.ingest.sources([str(feed)])
    assert report.new == 2, report.as_dict()
    with app.sessions() as session:
        texts = " ".join(f"{a.title} {a.summary}" for a in session.scalars(select(Article)))
    assert strip_bidi_controls(texts) == texts and "\u200f" in texts  # RLM kept
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("lecteur@example.org"), source="test")
    # A bilingual edition (NEWSLETTER_LANGUAGES=fr,ar): the Arabic item is in it.
    app.composer.options = dataclasses.replace(app.composer.options, languages=("fr", "ar"))
    assert app.release.send(DAY).run.sent == 1

    [eml] = (app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    french = "Le budget est voté à l'Assemblée nationale"
    assert h2_dirs(html) == {ARABIC_TITLE: "rtl", french: "ltr"}
    assert re.search(r'<p[^>]*dir="rtl"[^>]*>أعلنت الحكومة', html)
    assert not re.search(f"[{chr(0x202A)}-{chr(0x202E)}{chr(0x2066)}-{chr(0x2069)}]", html)

    client = TestClient(create_app(app), base_url="http://localhost:8000")
    page = client.get(f"/editions/{DAY}")
    assert page.status_code == 200
    assert h2_dirs(page.text) == {ARABIC_TITLE: "rtl", french: "ltr"}


def test_render_strips_controls_stored_before_and_says_auto_when_it_cannot_tell() -> None:
    from newsletter.render.edition import Identity

    items = [
        RenderItem("2026 — 52 %", "https://example.ma/n", "", "economie"),
        RenderItem("\u202eévitcelfér", "https://example.ma/r", "", "monde"),
        RenderItem("Tel Aviv", "https://example.ma/h", "", "monde", language="he"),
    ]
    edition = RenderEdition(DAY, "Sujet", "", 60, items, "https://example.ma/editions/x")
    identity = Identity("Le Brief", "Le Brief", "brief@example.ma", "1 rue X", "brief.example.ma")
    rendered = render_edition(edition, identity, public=True)
    assert "\u202e" not in rendered.html and "\u202e" not in rendered.text
    assert h2_dirs(rendered.html) == {"2026 — 52 %": "auto", "évitcelfér": "ltr", "Tel Aviv": "rtl"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ar", "rtl"), ("ar-MA", "rtl"), ("FA", "rtl"), ("he_IL", "rtl"), ("ur", "rtl"),
     ("fr", "ltr"), ("en-GB", "ltr"), (None, None), ("", None)],
)  # fmt: skip
def test_language_direction(language: str | None, expected: str | None) -> None:
    assert language_direction(language) == expected


def test_item_direction_falls_back_to_the_script_of_most_letters() -> None:
    assert first_strong("COP29 : قمة المناخ في باكو") == "ltr"  # UAX #9 P2 would say ltr
    assert item_direction(None, "COP29 : قمة المناخ في باكو") == "rtl"
    assert item_direction(None, "« 2026 » : שלום") == "rtl"
    assert item_direction(None, "ab", "אב") == "auto"
    assert item_direction(None, "123", "Résumé") == "ltr"
    assert item_direction(None, "123 !", "") == "auto"
    assert item_direction("ar", "Latin title") == "rtl"
