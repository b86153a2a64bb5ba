"""Bad input at every readers' route: wrong methods, bad tokens, huge or malformed bodies,
bad dates, unknown time zones, bad JSON. Each gets a clear page (an <h1> saying what went
wrong) or a JSON error, with a 4xx status, never a 500, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from starlette.routing import Route
from test_web import TestClient

from newsletter.links import Purpose
from newsletter.store.models import Delivery, Subscriber
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.wiring import App

DAY = date(2026, 3, 25)
#: The readers' routes and their methods (a new readers' route belongs here, and below).
READER_ROUTES = {
    "/u/{token}": {"GET", "POST"},
    "/p/{token}": {"GET", "POST"},
    "/c/{token}": {"GET", "POST"},
    "/editions/{day}": {"GET"},
    "/archive": {"GET"},
    "/subscribe": {"GET", "POST"},
    "/api/subscribe": {"POST"},
}


@pytest.fixture
def world(app: App) -> tuple[TestClient, App, dict[str, str]]:
    """A sent edition, one active and one pending reader; their signed paths by name."""
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        active = add_subscriber(session, SubscriberRecord("a@example.org"), source="test")
        pending = add_subscriber(
            session, SubscriberRecord("p@example.org"), source="web", status="pending"
        )
        session.flush()
        ids = (active.subscriber.id, pending.subscriber.id)
    assert app.release.send(DAY).run.sent == 1
    links = app.links
    paths = {
        "u": "/" + links.subscriber_url(Purpose.UNSUBSCRIBE, ids[0]).split("/", 3)[3],
        "p": "/" + links.subscriber_url(Purpose.PREFERENCES, ids[0]).split("/", 3)[3],
        "c": "/" + links.subscriber_url(Purpose.CONFIRM, ids[1]).split("/", 3)[3],
        "u_as_p": "/p/" + links.token(Purpose.UNSUBSCRIBE, ids[0]),  # wrong purpose
        "p_as_c": "/c/" + links.token(Purpose.PREFERENCES, ids[1]),
        "gone": "/p/" + links.token(Purpose.PREFERENCES, 999_999),  # no such subscriber
    }
    return TestClient(create_app(app), base_url="http://localhost:8000"), app, paths


def snapshot(app: App) -> list[tuple[object, ...]]:
    """Everything a reader's request could change."""
    with app.sessions() as session:
        people = session.execute(
            select(
                Subscriber.email, Subscriber.status, Subscriber.topics, Subscriber.frequency,
                Subscriber.weekday, Subscriber.paused_until, Subscriber.format,
                Subscriber.timezone, Subscriber.name,
            ).order_by(Subscriber.id)
        ).all()  # fmt: skip
        deliveries = session.execute(select(Delivery.id, Delivery.status)).all()
    return [tuple(row) for row in [*people, *deliveries]]


def test_the_list_covers_every_readers_route(world: tuple[TestClient, App, dict[str, str]]) -> None:
    _, app, _ = world
    routes: dict[str, set[str]] = {}
    for route in create_app(app).routes:
        if isinstance(route, Route) and not route.path.startswith("/editor"):
            routes.setdefault(route.path, set()).update((route.methods or set()) - {"HEAD"})
    assert {p: m for p, m in routes.items() if p in READER_ROUTES} == READER_ROUTES


def multipart_without_boundary() -> dict[str, object]:
    return {"content": b"--x\r\n\r\n", "headers": {"content-type": "multipart/form-data"}}


def broken_multipart() -> dict[str, object]:
    return {
        "content": b"--zz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--zz",
        "headers": {"content-type": "multipart/form-data; boundary=zz"},
    }


def many_fields() -> dict[str, object]:
    body = "&".join(f"f{i}=1" for i in range(2000)).encode()
    return {"content": body, "headers": {"content-type": "application/x-www-form-urlencoded"}}


def a_file() -> dict[str, object]:
    return {"files": {"upload": ("x.txt", b"hello", "text/plain")}}


def huge() -> dict[str, object]:
    return {
        "content": b"email=" + b"x" * 200_000,
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    }


def binary_form() -> dict[str, object]:
    return {
        "content": bytes(range(256)) * 4,
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    }


BODIES: dict[str, Callable[[], dict[str, object]]] = {
    "multipart without boundary": multipart_without_boundary,
    "broken multipart": broken_multipart,
    "2000 fields": many_fields,
    "a file upload": a_file,
    "200 KB": huge,
    "binary form": binary_form,
}
BAD_TOKENS = [
    "garbage", "x" * 5000, "%FF%FE", "%00", "é", "a.b.c", "..%2F..%2Fetc%2Fpasswd",
    "WzFd.aGVsbG8.c2ln",
]  # fmt: skip
BAD_JSON = [
    b"", b"{", b"null", b"[]", b'"a@b.org"', b'{"email": 3}', b'{"email": null}',
    b'{"email": "a@example.org", "topics": "sport"}', b'{"email": "a@example.org", "topics": [1]}',
    b'{"email": "not an address"}', b'{"email": "' + b"a" * 400 + b'@example.org"}',
    b"\xff\xfe{}", b"[" * 20_000 + b"]" * 20_000, b'{"email": "a@example.org"', b"NaN",
    json.dumps({"email": "x@example.org\r\nBcc: y@example.org"}).encode(),
]  # fmt: skip


def assert_clear_refusal(response: object, *, statuses: set[int] | None = None) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert 400 <= status < 500 if statuses is None else status in statuses, (status, text[:300])
    kind = response.headers.get("content-type", "")  # type: ignore[attr-defined]
    if kind.startswith("application/json"):
        assert json.loads(text)["error"], text
    elif kind.startswith("text/html"):
        assert "<h1>" in text and "Une erreur est survenue" not in text, text[:300]
    else:
        assert kind.startswith("text/plain") and text.strip(), (kind, text)


def test_wrong_methods(world: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, paths = world
    before = snapshot(app)
    concrete = {
        "/u/{token}": paths["u"], "/p/{token}": paths["p"], "/c/{token}": paths["c"],
        "/editions/{day}": "/editions/2026-03-25", "/archive": "/archive",
        "/subscribe": "/subscribe", "/api/subscribe": "/api/subscribe",
    }  # fmt: skip
    for pattern, methods in READER_ROUTES.items():
        for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - methods:
            response = client.request(method, concrete[pattern])
            assert response.status_code == 405, (method, pattern)
            assert_clear_refusal(response)
            if pattern.startswith("/api/"):
                assert response.json() == {"error": "Méthode non permise."}
    assert snapshot(app) == before


def test_bad_tokens_on_every_token_route(world: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, paths = world
    before = snapshot(app)
    for prefix in ("u", "p", "c"):
        for token in BAD_TOKENS:
            for method in ("GET", "POST"):
                response = client.request(method, f"/{prefix}/{token}")
                assert_clear_refusal(response, statuses={400, 404})
        for method in ("GET", "POST"):  # forged: the real token with its signature changed
            real = paths[prefix]
            forged = real[:-3] + ("abc" if not real.endswith("abc") else "abd")
            assert_clear_refusal(client.request(method, forged), statuses={400})
    for name in ("u_as_p", "p_as_c"):
        for method in ("GET", "POST"):
            assert_clear_refusal(client.request(method, paths[name]), statuses={400})
    for method in ("GET", "POST"):
        assert_clear_refusal(
            client.request(method, paths["gone"], data={"format": "text"}), statuses={404}
        )
    assert snapshot(app) == before


def test_malformed_and_huge_bodies_on_every_post(
    world: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, app, paths = world
    before = snapshot(app)
    targets = [paths["u"], paths["p"], paths["c"], "/subscribe", "/api/subscribe"]
    for target in targets:
        for name, body in BODIES.items():
            if name == "binary form" and target in (paths["u"], paths["c"]):
                continue  # a form that parses: see the next test
            response = client.post(target, **body())
            assert_clear_refusal(response)
            assert snapshot(app) == before, (target, name)


def test_a_post_on_a_valid_unsubscribe_or_confirm_link_acts_whatever_form_it_carries(
    world: tuple[TestClient, App, dict[str, str]],
) -> None:
    """RFC 8058 asks the one-click POST to act without conditions a mail client might not
    meet: a well-formed form body with unexpected fields still unsubscribes (and confirms:
    the link was sent to that address). Only unreadable bodies are refused (above)."""
    client, app, paths = world
    for path in (paths["u"], paths["c"]):
        assert client.post(path, **binary_form()).status_code == 200
    with app.sessions() as session:
        statuses = dict(session.execute(select(Subscriber.email, Subscriber.status)).all())
    assert statuses == {"a@example.org": "unsubscribed", "p@example.org": "active"}


def test_bad_json_on_the_json_endpoint(world: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, _ = world
    before = snapshot(app)
    for body in BAD_JSON:
        response = client.post(
            "/api/subscribe", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, body[:60]
        assert response.headers["content-type"].startswith("application/json")
        assert json.loads(response.text)["error"]
    assert snapshot(app) == before


def test_bad_dates(world: tuple[TestClient, App, dict[str, str]]) -> None:
    client, app, paths = world
    before = snapshot(app)
    for day in ("2026-13-01", "2026-02-30", "0000-00-00", "99999-01-01", "2026-3-5",
                "2026-03-25x", "%FF", "2026-03-25%00", "-1-01-01", "2030-01-01"):  # fmt: skip
        assert_clear_refusal(client.get(f"/editions/{day}"), statuses={404})
    for paused in ("2026-02-30", "31/12/2026", "2026-03-25T00:00", "0001-01-01", "9999-12-31",
                   "x" * 5000):  # fmt: skip
        response = client.post(paths["p"], data={"paused_until": paused})
        assert_clear_refusal(response, statuses={400})
        assert 'role="alert"' in response.text
    assert snapshot(app) == before


def test_unknown_time_zones_and_other_bad_preferences(
    world: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, app, paths = world
    before = snapshot(app)
    bad = [
        {"timezone": zone}
        for zone in ("Mars/Olympus", "Europe/Pari", "../../../etc/passwd", "/etc/localtime",
                     "Europe\\Paris", "Europe/Paris\x00", "UTC+1", "x" * 10_000, "Africa/")
    ] + [{"frequency": "never"}, {"frequency": "weekly", "weekday": "monday"},
         {"weekday": "8"}, {"format": "rtf"}, {"format": ["text", "text"]}]  # fmt: skip
    for fields in bad:
        response = client.post(paths["p"], data=fields)
        assert_clear_refusal(response, statuses={400})
        assert 'role="alert"' in response.text, fields
    json_body = client.post(paths["p"], json={"timezone": "Europe/Paris"})
    assert_clear_refusal(json_body, statuses={415})
    assert snapshot(app) == before


def test_odd_query_strings_and_headers_are_harmless(
    world: tuple[TestClient, App, dict[str, str]],
) -> None:
    client, app, paths = world
    before = snapshot(app)
    for path in ("/archive", "/subscribe", paths["p"], paths["u"], paths["c"]):
        response = client.get(path + "?%FF=%00&a=" + "b" * 5000)
        assert response.status_code == 200, path
    weird = client.post(
        "/subscribe", content=b"email=%E9%ZZ", headers={"content-type": "text/x-unknown"}
    )
    assert_clear_refusal(weird)
    lying = client.post(
        paths["u"], content=b"abc", headers={"content-type": "application/x-www-form-urlencoded",
                                             "content-length": "999999999"}
    )  # fmt: skip
    assert_clear_refusal(lying, statuses={413})
    assert snapshot(app) == before


# --- words, limits and odd input on the pages -------------------------------------------------
STARLETTE_WORDS = ("Too many files", "Maximum number", "Missing boundary", "Too many fields",
                   "Request too large", "Request Entity")  # fmt: skip


@pytest.mark.parametrize("language", ["fr", "en"])
def test_framework_text_never_reaches_a_page(app: App, language: str) -> None:
    """Unreadable forms and oversized bodies (declared or streamed) answer our page in the
    configured language (JSON under /api/), with the right status, on readers' and
    editors' routes alike."""
    from newsletter import words as table_of

    application = App(app.settings.model_copy(update={"language": language}), engine=app.engine)
    client = TestClient(create_app(application), base_url="http://localhost:8000")
    words, editor_words = table_of.table(language, "readers"), table_of.table(language, "editors")
    too_big = {"content-type": "application/x-www-form-urlencoded", "content-length": "99999999"}
    for path, ours in (("/subscribe", words), ("/editor/login", editor_words)):
        for name, body in (("files", a_file()), ("boundary", multipart_without_boundary()),
                           ("fields", many_fields())):  # fmt: skip
            answer = client.post(path, **body)
            assert answer.status_code == 400, (path, name)
            assert ours["bad_form"] in answer.text, (path, name)
            assert not any(w in answer.text for w in STARLETTE_WORDS), (path, name)
            assert f'<html lang="{language}"' in answer.text
        declared = client.post(path, content=b"email=x", headers=too_big)
        assert declared.status_code == 413 and ours["too_large"] in declared.text, path
        assert f'<html lang="{language}"' in declared.text
    streamed = client.post("/subscribe", **huge())
    assert streamed.status_code == 413 and words["too_large"] in streamed.text
    api = client.post("/api/subscribe", content=b"{}", headers=too_big)
    assert api.status_code == 413 and api.json() == {"error": words["too_large"]}


def asgi_post(asgi: object, path: str, content_type: str) -> list[dict[str, object]]:
    """POST ``path`` straight through ASGI: ``Content-Length: 100``, one byte, then the
    client disconnects. The messages the app sent back."""
    import asyncio

    sent: list[dict[str, object]] = []
    incoming = [
        {"type": "http.request", "body": b"e", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "client": ("127.0.0.1", 5000), "server": ("localhost", 8000),
        "headers": [(b"host", b"localhost:8000"), (b"content-type", content_type.encode()),
                    (b"content-length", b"100")],
    }  # fmt: skip
    asyncio.run(asgi(scope, receive, send))  # type: ignore[operator]
    return sent


def test_a_client_leaving_mid_body_is_logged_quietly(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Starlette's ClientDisconnect does not escape (no traceback at ERROR): an INFO line,
    nothing saved."""
    import logging

    asgi = create_app(app)
    before = snapshot(app)
    form = "application/x-www-form-urlencoded"
    with caplog.at_level(logging.DEBUG):
        for path, kind in (("/api/subscribe", "application/json"), ("/subscribe", form),
                           ("/editor/login", form)):  # fmt: skip
            sent = asgi_post(asgi, path, kind)
            assert sent and sent[0]["status"] == 400, path
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("client left" in r.getMessage() for r in caplog.records) == 3
    assert snapshot(app) == before


def test_preferences_refuse_pseudo_time_zones(
    world: tuple[TestClient, App, dict[str, str]],
) -> None:
    """``localtime``, ``posixrules``, ``Factory`` and the ``right/``/``posix/`` copies are
    not IANA zones a reader lives in: 400, nothing saved; ``UTC`` stays valid."""
    from newsletter.web.preferences import time_zones

    client, app, paths = world
    before = snapshot(app)
    for zone in ("localtime", "posixrules", "Factory", "right/UTC", "posix/Europe/Paris"):
        assert zone not in time_zones()
        response = client.post(paths["p"], data={"timezone": zone})
        assert_clear_refusal(response, statuses={400})
        assert 'role="alert"' in response.text, zone
    assert snapshot(app) == before
    assert client.post(paths["p"], data={"timezone": "UTC"}).status_code == 200
    assert "UTC" in time_zones()


def test_an_unknown_topic_saves_nothing(world: tuple[TestClient, App, dict[str, str]]) -> None:
    """``topics=nope`` is refused with 400 and a clear message (it was dropped and answered
    200), even beside good values and other fields: nothing is saved."""
    client, app, paths = world
    before = snapshot(app)
    for fields in ({"topics": "nope"}, {"topics": ["sport", "nope"], "format": "text"},
                   {"form": "preferences", "topics": ["nope"], "frequency": "weekly",
                    "weekday": "2"}):  # fmt: skip
        response = client.post(paths["p"], data=fields)
        assert_clear_refusal(response, statuses={400})
        assert "Ce thème n’existe pas" in response.text and 'role="alert"' in response.text
    assert snapshot(app) == before
