"""The REST API under /api/v1: tokens and scopes (401, 403), editions (list, get with items,
approve, hold), subscribers (create with double opt-in, get by address, erase), reports;
and the implementation checked against /api/openapi.json by schemathesis."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from newsletter.store.models import Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.store.suppressions import suppress
from newsletter.store.tokens import SCOPES, create_token
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.test_web import TestClient, confirmations, status_of

DAY = date(2026, 3, 25)


@pytest.fixture
def api(app: App) -> tuple[App, dict[str, str]]:
    """The sample day's draft, a reader, and tokens: every scope, and one per scope."""
    app.ingest.sample(DAY)
    app.composer.compose(DAY)
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("lectrice@example.org", "Lina"), source="test")
    tokens = {"all": create_token(app.sessions, "all")}
    for scope in SCOPES:
        tokens[scope] = create_token(app.sessions, scope.replace(":", "-"), (scope,))
    return app, tokens


def client_of(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://localhost:8000")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/editions", "editions:read", None),
    ("GET", f"/api/v1/editions/{DAY}", "editions:read", None),
    ("POST", f"/api/v1/editions/{DAY}/hold", "editions:write", {"held": False}),
    ("POST", "/api/v1/subscribers", "subscribers:write", {"email": "x@example.org"}),
    ("GET", "/api/v1/subscribers/lectrice@example.org", "subscribers:read", None),
    ("GET", f"/api/v1/reports/{DAY}", "reports:read", None),
]


def test_tokens_and_scopes(api: tuple[App, dict[str, str]]) -> None:
    app, tokens = api
    client = client_of(app)
    for method, path, scope, body in ROUTES:
        assert client.request(method, path, json=body).status_code == 401, path
        wrong = client.request(method, path, json=body, headers=bearer("nl_forged"))
        assert wrong.status_code == 401 and "invalid_token" in wrong.headers["www-authenticate"]
        other = next(name for name in SCOPES if name != scope)
        refused = client.request(method, path, json=body, headers=bearer(tokens[other]))
        assert refused.status_code == 403, (path, other)
        assert refused.json()["error"] == f"this token lacks the {scope} scope"
        allowed = client.request(method, path, json=body, headers=bearer(tokens[scope]))
        assert allowed.status_code in (200, 202), (path, allowed.text)


def test_editions_list_get_approve_and_hold(api: tuple[App, dict[str, str]]) -> None:
    app, tokens = api
    client, auth = client_of(app), bearer(tokens["all"])
    listed = client.get("/api/v1/editions", headers=auth).json()["editions"]
    assert [(e["date"], e["status"]) for e in listed] == [("2026-03-25", "draft")]
    one = client.get(f"/api/v1/editions/{DAY}", headers=auth).json()
    assert one["items"] and {"position", "article_id", "title", "url"} <= set(one["items"][0])
    held = client.post(f"/api/v1/editions/{DAY}/hold", json={"held": True}, headers=auth)
    assert held.status_code == 200 and held.json()["held"] is True and held.json()["changed"]
    assert app.drafts.get(DAY).held  # type: ignore[union-attr]
    approved = client.post(f"/api/v1/editions/{DAY}/approve", headers=auth)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "api:all"
    assert approved.json()["held"] is False  # an approval lifts the hold
    assert client.post(f"/api/v1/editions/{DAY}/hold", json={"held": "yes"},
                       headers=auth).status_code == 422  # fmt: skip
    assert client.get("/api/v1/editions/2026-01-01", headers=auth).status_code == 404
    assert client.get("/api/v1/editions/not-a-date", headers=auth).status_code == 404
    assert client.get("/api/v1/editions?limit=0", headers=auth).status_code == 422
    assert app.release.send(DAY).run.sent == 1
    locked = client.post(f"/api/v1/editions/{DAY}/hold", json={"held": True}, headers=auth)
    assert locked.status_code == 409 and "already" in locked.json()["error"]
    report = client.get(f"/api/v1/reports/{DAY}", headers=auth).json()
    assert report["recipients"] == 1 and report["sent"] == 1 and "by_item" in report["clicks"]


def test_subscribers_create_get_and_erase(api: tuple[App, dict[str, str]]) -> None:
    app, tokens = api
    client, auth = client_of(app), bearer(tokens["all"])
    created = client.post("/api/v1/subscribers", json={"email": "Neuf@Example.org",
                          "topics": ["sport", "inconnu"]}, headers=auth)  # fmt: skip
    assert created.status_code == 202 and created.json() == {"status": "pending_confirmation"}
    assert status_of(app, "Neuf@example.org") == "pending" and len(confirmations(app)) == 1
    got = client.get("/api/v1/subscribers/NEUF@example.org", headers=auth).json()
    assert got["status"] == "pending" and got["topics"] == ["sport"]
    bad = client.post("/api/v1/subscribers", json={"email": "pas une adresse"}, headers=auth)
    assert bad.status_code == 422
    with app.sessions.begin() as session:
        suppress(session, "lectrice@example.org", "manual", "asked")
    assert (
        client.request(
            "DELETE", "/api/v1/subscribers/lectrice@example.org", headers=auth
        ).status_code
        == 204
    )
    assert client.get("/api/v1/subscribers/lectrice@example.org", headers=auth).status_code == 404
    assert (
        client.request(
            "DELETE", "/api/v1/subscribers/lectrice@example.org", headers=auth
        ).status_code
        == 404
    )
    with app.sessions() as session:  # erased, but never mailed again
        assert session.scalars(select(Suppression.reason)).all() == ["manual"]


def test_the_openapi_document_is_served(api: tuple[App, dict[str, str]]) -> None:
    app, _ = api
    document = client_of(app).get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/api/v1/editions", "/api/v1/editions/{day}", "/api/v1/editions/{day}/approve",
        "/api/v1/editions/{day}/hold", "/api/v1/subscribers", "/api/v1/subscribers/{email}",
        "/api/v1/reports/{day}",
    }  # fmt: skip


def test_the_api_matches_its_openapi_document(api: tuple[App, dict[str, str]]) -> None:
    """Every operation of the document, with input generated from it (hypothesis), answers
    as the document says: no 5xx, documented status codes, content types and bodies
    (schemathesis's checks). Driven here rather than by schemathesis's pytest plugin, which
    does not run under this pytest."""
    app, tokens = api
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def conforms(case: Any) -> None:
            # Whether an address can receive mail is not a schema matter: email-validator
            # refuses reserved domains (RFC 6761 ".test" ...) that "format: email" allows,
            # with 422; every other check still applies to the sign-up.
            signup = case.operation.path == "/api/v1/subscribers"
            excluded = [positive_data_acceptance] if signup else None
            case.call_and_validate(headers=bearer(tokens["all"]), excluded_checks=excluded)

        conforms()
