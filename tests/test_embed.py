"""The sign-up box (/embed/subscribe): a small form without script, in the newsletter's
colours, French by default, framed only by the allowed origins, signing up with double
opt-in; CORS of /api/subscribe for those origins only; the editors' snippet."""

from __future__ import annotations

import re

import pytest

from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.test_web import TestClient, confirm_link, confirmations, path_of, status_of
from tests.test_web_editor import Browser, editor_settings, signed_in, site  # noqa: F401

SITE = "https://www.example.ma"


@pytest.fixture
def boxed(app: App) -> tuple[TestClient, App]:
    settings = app.settings.model_copy(
        update={
            "allowed_origins": [SITE, "https://partenaire.example.org"],
            "accent_color": "#0a5c8a",
        }
    )
    application = App(settings, engine=app.engine)
    return TestClient(create_app(application), base_url="http://localhost:8000"), application


def test_the_box_is_a_small_french_form_in_our_colours(boxed: tuple[TestClient, App]) -> None:
    client, _ = boxed
    page = client.get("/embed/subscribe")
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "La newsletter qui vous briefe en 5 min" in page.text
    assert "Chaque jour, recevez l’essentiel de l’information" in page.text
    assert "<script" not in page.text.lower() and 'method="post"' in page.text
    assert "#0a5c8a" in page.text  # the accent colour of the settings
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://www.example.ma https://partenaire.example.org" in policy
    assert "x-frame-options" not in page.headers  # the policy, not DENY, says who may frame it
    english = client.get("/embed/subscribe?lang=en")
    assert '<html lang="en">' in english.text and "briefs you in 5 min" in english.text
    assert client.get("/embed/subscribe?lang=xx").text.count('<html lang="fr">') == 1


def test_no_origin_frames_the_box_unless_allowed(app: App) -> None:
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    policy = client.get("/embed/subscribe").headers["content-security-policy"]
    assert policy.startswith("frame-ancestors 'self';")


def test_the_box_signs_up_with_double_opt_in(boxed: tuple[TestClient, App]) -> None:
    client, application = boxed
    answer = client.post("/embed/subscribe", data={"email": "Lectrice@Example.org"})
    assert answer.status_code == 200 and "Vérifiez votre boîte" in answer.text
    assert status_of(application, "Lectrice@example.org") == "pending"
    [mail] = confirmations(application)
    assert client.post(path_of(confirm_link(mail))).status_code == 200
    assert status_of(application, "Lectrice@example.org") == "active"
    bad = client.post("/embed/subscribe", data={"email": "pas une adresse"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert "frame-ancestors" in bad.headers["content-security-policy"]
    assert (
        client.post(
            "/embed/subscribe",
            content=b"\xff",
            headers={"content-type": "multipart/form-data; boundary=x"},
        ).status_code
        == 400
    )


def test_cors_preflights_for_the_allowed_origins_only(boxed: tuple[TestClient, App]) -> None:
    client, _application = boxed
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = client.request("OPTIONS", "/api/subscribe", headers={"Origin": SITE, **ask})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert "POST" in allowed.headers["access-control-allow-methods"]
    other = client.request(
        "OPTIONS", "/api/subscribe", headers={"Origin": "https://evil.example", **ask}
    )
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    posted = client.post(
        "/api/subscribe", json={"email": "cors@example.org"}, headers={"Origin": SITE}
    )
    assert posted.status_code == 202 and posted.headers["access-control-allow-origin"] == SITE
    stranger = client.post(
        "/api/subscribe",
        json={"email": "x@example.org"},
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in stranger.headers
    # other paths get no CORS at all
    elsewhere = client.request("OPTIONS", "/api/articles", headers={"Origin": SITE, **ask})
    assert "access-control-allow-origin" not in elsewhere.headers


def test_allowed_origins_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config.settings import ConfigError, load_settings

    monkeypatch.setenv("NEWSLETTER_ALLOWED_ORIGINS", "https://a.example, https://B.example:8443")
    assert load_settings().allowed_origins == ["https://a.example", "https://b.example:8443"]
    monkeypatch.setenv("NEWSLETTER_ALLOWED_ORIGINS", "https://a.example/page")
    with pytest.raises(ConfigError, match="NEWSLETTER_ALLOWED_ORIGINS"):
        load_settings()
    monkeypatch.setenv("NEWSLETTER_ALLOWED_ORIGINS", "*")
    with pytest.raises(ConfigError, match="NEWSLETTER_ALLOWED_ORIGINS"):
        load_settings()


def test_the_editors_page_gives_the_snippet(
    signed_in: tuple[Browser, App],  # noqa: F811 (the imported fixture)
) -> None:
    browser, _ = signed_in
    page = browser.get("/editor/signup-box")
    assert page.status_code == 200
    snippet = re.search(r'<textarea id="snippet"[^>]*>([^<]+)</textarea>', page.text)
    assert (
        snippet and "&lt;iframe src=&#34;http://localhost:8000/embed/subscribe&#34;" in snippet[1]
    )
    assert browser.get("/editor/signup-box").headers["x-frame-options"] == "DENY"


def test_the_snippet_page_needs_an_editor(site: tuple[Browser, App]) -> None:  # noqa: F811
    browser, _ = site
    assert browser.get("/editor/signup-box").status_code == 303
