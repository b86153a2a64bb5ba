"""The CMS push through HTTP (``POST /api/articles``, real ASGI requests through httpx's
transport, as the readers' pages are tested) on SQLite and PostgreSQL, and the
``newsletter api-token`` commands that make its tokens, run in process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from newsletter.store.models import ApiToken, Article
from newsletter.store.tokens import create_token, token_digest
from newsletter.web.api_articles import MAX_BODY
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.conftest import run_cli
from tests.test_web import TestClient

WHEN = "2026-12-06T08:30:00+01:00"
FRENCH = (
    "<p>Le gouvernement a présenté mardi son projet de loi de finances, qui prévoit une hausse"
    " des investissements publics dans les infrastructures et l'éducation.</p>"
)


def article(n: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid pushed article, number ``n``, with ``fields`` changed."""
    return {
        "url": f"https://example.ma/politique/article-{n}",
        "title": f"Article numéro {n}",
        "summary": FRENCH,
        "published_at": WHEN,
        **fields,
    }


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://localhost:8000")


@pytest.fixture
def token(app: App) -> str:
    return create_token(app.sessions, "cms")


def push(client: TestClient, token: str | None, body: object) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/api/articles", json=body, headers=headers)


def articles(app: App) -> list[Article]:
    with app.sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def test_created_then_the_same_url_is_updated(app: App, client: TestClient, token: str) -> None:
    first = push(client, token, article(1, section="Politique", featured=True))
    assert first.status_code == 201, first.text
    [answer] = first.json()["articles"]
    assert answer["status"] == "created"
    assert answer["url"] == "https://example.ma/politique/article-1"
    [stored] = articles(app)
    assert stored.id == answer["id"]
    assert stored.source_name == "cms" and stored.category == "Politique"
    assert stored.featured is True and stored.language == "fr"  # detected from the text
    assert stored.summary.startswith("Le gouvernement") and "<p>" not in stored.summary
    assert stored.published_at.isoformat() == "2026-12-06T07:30:00+00:00"

    again = push(client, token, article(1, title="Article numéro 1, mis à jour"))
    assert again.status_code == 200, again.text
    assert again.json() == {"articles": [{"id": stored.id, "url": stored.url, "status": "updated"}]}
    [updated] = articles(app)
    assert updated.title == "Article numéro 1, mis à jour"
    # The same article reached with tracking parameters is still the same one.
    tracked = push(client, token, article(1, url=stored.url + "?utm_source=cms"))
    assert tracked.status_code == 200 and tracked.json()["articles"][0]["id"] == stored.id


def test_matched_by_guid_when_the_url_changed(app: App, client: TestClient, token: str) -> None:
    first = push(client, token, article(1, guid="cms-42", language="fr-MA"))
    assert first.status_code == 201
    moved = push(client, token, article(2, guid="cms-42"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["articles"][0]["id"] == first.json()["articles"][0]["id"]
    [stored] = articles(app)
    assert stored.url.endswith("/article-2") and stored.guid == "cms-42"


def test_a_list_of_three(app: App, client: TestClient, token: str) -> None:
    assert push(client, token, article(1)).status_code == 201
    answer = push(client, token, [article(1, title="Changé"), article(2), article(3)])
    assert answer.status_code == 201, answer.text
    assert [a["status"] for a in answer.json()["articles"]] == ["updated", "created", "created"]
    assert [a["url"][-1] for a in answer.json()["articles"]] == ["1", "2", "3"]
    assert len(articles(app)) == 3


def test_every_error_is_named_and_nothing_is_stored(
    app: App, client: TestClient, token: str
) -> None:
    body = [
        article(0),
        {key: value for key, value in article(1).items() if key != "url"},
        article(2, url="ftp://example.ma/a"),
        article(3, published_at="2026-12-06T08:30:00"),  # no offset
        article(4, featured="yes"),
        "not an object",
        article(6, title="  "),
        article(7, image="javascript:alert(1)"),
        article(8, language="français"),
        article(9, published_at="2026-02-30T08:00:00Z"),
    ]
    answer = push(client, token, body)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "url"), (2, "url"), (3, "published_at"), (4, "featured"), (5, None), (6, "title"),
        (7, "image"), (8, "language"), (9, "published_at"),
    ]  # fmt: skip
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)
    assert articles(app) == []


def test_more_than_500_articles_are_refused(app: App, client: TestClient, token: str) -> None:
    body = [{"url": f"https://e.ma/{n}", "title": "t", "published_at": WHEN} for n in range(501)]
    assert len(json.dumps(body)) < MAX_BODY  # under the size limit: the count is the reason
    answer = push(client, token, body)
    assert answer.status_code == 422
    assert answer.json() == {
        "errors": [{"index": None, "field": None, "message": "at most 500 articles per request"}]
    }
    assert articles(app) == []


def test_a_body_that_is_not_json(client: TestClient, token: str) -> None:
    answer = client.post(
        "/api/articles", content=b"{not json", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["index"] is None


def test_over_one_megabyte_is_refused_first(client: TestClient) -> None:
    body = b"[" + b" " * (MAX_BODY - 2) + b"]"  # exactly the limit: read, then judged
    assert len(body) == MAX_BODY
    assert client.post("/api/articles", content=body).status_code == 401
    answer = client.post("/api/articles", content=body + b" ")  # no token either: size first
    assert answer.status_code == 413 and "error" in answer.json()


def test_a_streamed_body_over_the_limit_is_cut_off(
    app: App, client: TestClient, token: str
) -> None:
    async def chunks() -> Any:  # no Content-Length: the limit counts the bytes as they arrive
        yield b"["
        for _ in range(MAX_BODY // 65536 + 1):
            yield b" " * 65536
        yield b"]"

    answer = client.post(
        "/api/articles", content=chunks(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 413
    assert client.get("/api/articles").status_code == 405
    assert articles(app) == []


def test_tokens_are_checked(app: App, client: TestClient, token: str) -> None:
    missing = push(client, None, article())
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert push(client, token + "x", article()).status_code == 401
    assert push(client, "nl_" + "A" * 43, article()).status_code == 401
    basic = client.post(
        "/api/articles", json=article(), headers={"Authorization": f"Basic {token}"}
    )
    assert basic.status_code == 401
    reader = create_token(app.sessions, "reports", ("reports:read", "editions:read"))
    forbidden = push(client, reader, article())
    assert forbidden.status_code == 403
    assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]
    assert articles(app) == []
    # Any case of the scheme (RFC 7235); the last use is recorded.
    lower = client.post(
        "/api/articles", json=article(), headers={"Authorization": f"bearer {token}"}
    )
    assert lower.status_code == 201
    with app.sessions() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "cms")).one()
    assert row.last_used_at is not None and row.token_hash == token_digest(token)
    assert token not in json.dumps([row.name, row.token_hash, row.scopes])


# --- newsletter api-token ------------------------------------------------------------------
def test_create_prints_the_token_alone_and_list_never_shows_it(app: App) -> None:
    created = run_cli("api-token", "create", "cms", check=True)
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith("nl_") and len(token) == 46
    narrowed = run_cli("api-token", "create", "lecture", "--scope", "reports:read", check=True)
    listed = run_cli("api-token", "list", "--json", check=True)
    assert token not in listed.stdout and narrowed.stdout.strip() not in listed.stdout
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["scopes"], r["last_used"], r["revoked"]) for r in rows] == [
        ("cms", ["articles:write", "editions:read", "editions:write", "subscribers:read",
                 "subscribers:write", "reports:read"], None, None),
        ("lecture", ["reports:read"], None, None),
    ]  # fmt: skip
    assert rows[0]["created"].endswith("+00:00")
    plain = run_cli("api-token", "list", check=True)
    assert "cms" in plain.stdout and token not in plain.stdout
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_create_refuses_unknown_scopes_and_taken_names(app: App) -> None:
    unknown = run_cli("api-token", "create", "cms", "--scope", "articles:delete")
    assert unknown.returncode == 2 and unknown.stdout == "" and "articles:delete" in unknown.stderr
    assert run_cli("api-token", "create", "cms").returncode == 0
    taken = run_cli("api-token", "create", "cms")
    assert taken.returncode == 2 and taken.stdout == ""
    assert run_cli("api-token", "create", "no spaces").returncode == 2
    assert run_cli("api-token", "revoke", "absent").returncode == 1


def test_a_revoked_token_is_refused(app: App, client: TestClient) -> None:
    token = run_cli("api-token", "create", "cms", check=True).stdout.strip()
    assert push(client, token, article()).status_code == 201
    assert run_cli("api-token", "revoke", "cms", check=True).stdout == "revoked cms\n"
    refused = push(client, token, article(2))
    assert refused.status_code == 401
    assert len(articles(app)) == 1
    [row] = json.loads(run_cli("api-token", "list", "--json", check=True).stdout)
    assert row["revoked"] is not None and row["last_used"] is not None
