"""Readers' pages through the real ASGI app: unsubscribe (page, button, RFC 8058 one-click
in both encodings), preferences, the public archive, and bad tokens that change nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from email import message_from_bytes, policy

import httpx
import pytest
from sqlalchemy import select

from newsletter.links import Purpose
from newsletter.store.models import Subscriber
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.wiring import App

DAY = date(2026, 3, 25)


class TestClient:
    """httpx's ASGI transport driven synchronously: each call is one real ASGI request."""

    __test__ = False

    def __init__(self, asgi: object, base_url: str) -> None:
        self.asgi, self.base_url = asgi, base_url

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

        return asyncio.run(go())

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        kwargs.pop("follow_redirects", None)  # httpx's client never follows by default
        return self.request("POST", url, **kwargs)

    def delete(self, url: str) -> httpx.Response:
        return self.request("DELETE", url)


@pytest.fixture
def site(app: App) -> tuple[TestClient, App, dict[str, str]]:
    """The sample edition sent to three readers; their List-Unsubscribe URLs by address."""
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for email in ("a@example.org", "b@example.org", "c@example.org"):
            add_subscriber(session, SubscriberRecord(email), source="test")
    assert app.release.send(DAY).run.sent == 3
    links = {}
    for path in (app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        links[message["To"].addresses[0].addr_spec] = re.search(
            r"<([^>]+)>", str(message["List-Unsubscribe"])
        )[1]
    return TestClient(create_app(app), base_url="http://localhost:8000"), app, links


def status_of(app: App, email: str) -> str:
    with app.sessions() as session:
        return session.scalars(select(Subscriber.status).where(Subscriber.email == email)).one()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_get_only_shows_a_button(site: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, links = site
    page = client.get(path_of(links["a@example.org"]))
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert "a***@example.org" in page.text and "a@example.org" not in page.text  # masked
    assert "Me désabonner" in page.text
    assert status_of(app, "a@example.org") == "active"  # a mail scanner's GET changes nothing


@pytest.mark.parametrize("encoding", ["form", "multipart", "empty"])
def test_one_click_post_unsubscribes_at_once_and_is_idempotent(
    site: tuple[TestClient, App, dict[str, str]], encoding: str
) -> None:
    client, app, links = site
    url = path_of(links["b@example.org"])
    kwargs: dict[str, object] = {
        "form": {"data": {"List-Unsubscribe": "One-Click"}},
        "multipart": {"files": {"List-Unsubscribe": (None, "One-Click")}},
        "empty": {},
    }[encoding]
    for _ in range(2):
        response = client.post(url, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200 and not response.is_redirect
    assert status_of(app, "b@example.org") == "unsubscribed"
    assert status_of(app, "a@example.org") == "active"
    assert app.release.send(DAY).run.sent == 0


def test_the_page_button_unsubscribes(site: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, links = site
    response = client.post(path_of(links["c@example.org"]), data={"confirm": "1"})
    assert response.status_code == 200 and "désabonné" in response.text
    assert status_of(app, "c@example.org") == "unsubscribed"


def test_bad_tokens_get_a_clear_page_and_change_nothing(
    site: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, app, links = site
    token = links["a@example.org"].rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with app.sessions() as session:
        subscriber_id = session.scalars(
            select(Subscriber.id).where(Subscriber.email == "a@example.org")
        ).one()
    wrong_purpose = app.links.token(Purpose.PREFERENCES, subscriber_id)
    for path in (f"/u/{forged}", f"/u/{wrong_purpose}", "/u/garbage", f"/p/{token}"):
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 400 and "pas valide" in response.text, (path, method)
    assert status_of(app, "a@example.org") == "active"
    assert client.delete(path_of(links["a@example.org"])).status_code == 405


def test_preferences_save_topics_from_the_next_edition(
    site: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, app, _ = site
    with app.sessions() as session:
        subscriber_id = session.scalars(
            select(Subscriber.id).where(Subscriber.email == "a@example.org")
        ).one()
    url = path_of(app.links.subscriber_url(Purpose.PREFERENCES, subscriber_id))
    page = client.get(url)
    assert page.status_code == 200 and 'value="sport"' in page.text
    refused = client.post(url, data={"topics": ["sport", "culture", "not-a-topic"]})
    assert refused.status_code == 400 and "Ce thème n’existe pas" in refused.text
    with app.sessions() as session:  # one bad value saves nothing (README)
        assert session.get(Subscriber, subscriber_id).topics != ["sport", "culture"]
    saved = client.post(url, data={"topics": ["sport", "culture"]})
    assert saved.status_code == 200 and "enregistrées" in saved.text
    with app.sessions() as session:
        assert session.get(Subscriber, subscriber_id).topics == ["sport", "culture"]


def test_archive_and_view_in_browser_have_no_personal_links(
    site: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, _, _ = site
    archive = client.get("/archive")
    assert archive.status_code == 200 and "/editions/2026-03-25" in archive.text
    edition = client.get("/editions/2026-03-25")
    assert edition.status_code == 200 and "<table" in edition.text
    assert (
        "/u/" not in edition.text
        and "/p/" not in edition.text
        and "@example.org" not in edition.text
    )
    for missing in ("/editions/2020-01-01", "/editions/2026-02-30", "/editions/nope", "/nothing"):
        response = client.get(missing)
        assert response.status_code == 404 and "<h1>" in response.text, missing


def confirmations(app: App) -> list[str]:
    folder = app.settings.effective_outbox_dir / "confirmations"
    return sorted(p.read_bytes().decode() for p in folder.glob("*.eml")) if folder.is_dir() else []


def confirm_link(raw: str) -> str:
    message = message_from_bytes(raw.encode(), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/c/\S+", text)[0]


def test_sign_up_with_double_opt_in(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    answer = client.post(
        "/api/subscribe", json={"email": "New@Example.org", "topics": ["sport", "x"]}
    )
    assert answer.status_code == 202 and answer.json()["status"] == "pending_confirmation"
    assert status_of(app, "New@example.org") == "pending"
    [mail] = confirmations(app)
    assert (
        "Confirmez votre abonnement"
        in message_from_bytes(mail.encode(), policy=policy.default)["Subject"]
    )
    link = path_of(confirm_link(mail))
    page = client.get(link)
    assert page.status_code == 200 and "Confirmer mon abonnement" in page.text
    assert status_of(app, "New@example.org") == "pending"  # a scanner's GET changes nothing
    for _ in range(2):
        assert client.post(link).status_code == 200
    assert status_of(app, "New@example.org") == "active"
    with app.sessions() as session:
        assert session.scalars(select(Subscriber.topics)).one() == ["sport"]
    # The same answer for a known address, and no new confirmation for an active one.
    again = client.post("/api/subscribe", json={"email": "new@example.org", "name": "Intrus"})
    assert again.status_code == 202 and again.json() == answer.json()
    assert len(confirmations(app)) == 1
    with app.sessions() as session:
        assert session.scalars(select(Subscriber.name)).one() is None  # a stranger changed nothing


def test_sign_up_errors_and_limits(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    client = TestClient(create_app(app), base_url="http://localhost:8000")
    assert client.post("/api/subscribe", json={"email": "not an address"}).status_code == 400
    bad_json = client.post("/api/subscribe", content=b"{nope")
    assert bad_json.status_code == 400
    assert bad_json.json()["error"] == "Attendu\u00a0: un objet JSON."
    assert client.post("/api/subscribe", json=["x"]).status_code == 400
    topics = client.post("/api/subscribe", json={"email": "t@example.org", "topics": "sport"})
    assert topics.status_code == 400 and "liste de thèmes" in topics.json()["error"]
    form = client.post("/subscribe", data={"email": "form@example.org"})
    assert form.status_code == 200 and "Vérifiez votre boîte" in form.text
    assert client.get("/subscribe").status_code == 200
    codes = [
        client.post("/api/subscribe", json={"email": "busy@example.org"}).status_code
        for _ in range(4)
    ]
    assert codes == [202, 202, 202, 429]  # three a hour for one address
    link = path_of(confirm_link(confirmations(app)[0]))
    forged = link[:-3] + "abc"
    assert client.post(forged).status_code == 400
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 8 * 24 * 3600)
    expired = client.post(link)
    assert expired.status_code == 410 and "expiré" in expired.text


def test_hostile_requests_are_refused_cleanly(site: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, links = site
    huge = client.post(
        "/api/subscribe", content=b"x" * 200_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413

    async def chunks():  # no Content-Length: the limit applies while the body arrives
        for _ in range(100):
            yield b"y" * 10_000

    streamed = client.post(path_of(links["a@example.org"]), content=chunks())
    assert streamed.status_code == 413 and status_of(app, "a@example.org") == "active"
    nested = client.post("/api/subscribe", content=b"[" * 20_000 + b"]" * 20_000)  # < 64 KB
    assert nested.status_code == 400
    with app.sessions() as session:
        subscriber_id = session.scalars(
            select(Subscriber.id).where(Subscriber.email == "a@example.org")
        ).one()
        session.get(Subscriber, subscriber_id).topics = ["sport"]
        session.commit()
    preferences = path_of(app.links.subscriber_url(Purpose.PREFERENCES, subscriber_id))
    wrong_type = client.post(preferences, json={"topics": []})
    assert wrong_type.status_code == 415
    with app.sessions() as session:
        assert session.get(Subscriber, subscriber_id).topics == ["sport"]


def test_respelled_addresses_share_one_limit(app: App) -> None:
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    spellings = ["x@\uff45xample.org", "X@EXAMPLE.ORG", " x@example.org ", "x@exa\uff4dple.org"]
    codes = [client.post("/api/subscribe", json={"email": e}).status_code for e in spellings]
    assert codes == [202, 202, 202, 429]


def test_multipart_one_click_and_bounced_status(
    site: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, app, links = site
    one_click = client.post(
        path_of(links["a@example.org"]), files={"List-Unsubscribe": (None, "One-Click")}
    )
    assert one_click.status_code == 200 and one_click.headers["content-type"].startswith(
        "text/plain"
    )
    with app.sessions() as session:
        bob = session.scalars(select(Subscriber).where(Subscriber.email == "b@example.org")).one()
        bob.status = "bounced"
        session.commit()
    page = client.get(path_of(links["b@example.org"]))
    assert "Me désabonner" not in page.text
    client.post(path_of(links["b@example.org"]))
    assert status_of(app, "b@example.org") == "bounced"  # the bounce is kept
