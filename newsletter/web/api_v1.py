"""The REST API under ``/api/v1`` (README "The REST API") and its OpenAPI 3.1 document at
``/api/openapi.json``, which the tests check the implementation against (schemathesis).

Every route takes ``Authorization: Bearer <token>`` (RFC 6750), a token of ``newsletter
api-token create``: 401 without a valid one, 403 when it lacks the route's scope
(``editions:read``, ``editions:write``, ``subscribers:read``, ``subscribers:write``,
``reports:read``). Errors are ``{"error": "<English message>"}``: the reader is a
developer. Sign-ups go through the double opt-in of the readers' form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.audience.records import InvalidSubscriber
from newsletter.compose.kinds import Kind
from newsletter.errors import UsageError
from newsletter.store.db import transaction
from newsletter.store.editions import get_edition, recent_editions
from newsletter.store.erasure import erase as erase_email
from newsletter.store.subscribers import subscriber_by_email
from newsletter.store.tokens import authenticate
from newsletter.web.api_articles import bearer_token
from newsletter.wiring import App

PREFIX = "/api/v1"
#: The most editions one list answers.
MAX_LIMIT = 100
#: Largest JSON body read (bytes).
MAX_BODY = 16 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Refused(Exception):
    """An answer other than success: ``status`` and English ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _day(value: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise Refused(404, "no edition for that date (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(404, "no edition for that date (not a date of the calendar)") from None


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(413, f"the body is over {MAX_BODY} bytes")
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(422, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise Refused(422, "the body must be a JSON object")
    return payload


def _edition_summary(edition: Any) -> dict[str, Any]:
    return {
        "date": edition.date.isoformat(),
        "status": edition.status,
        "subject": edition.subject,
        "held": bool(edition.held),
        "approved_by": edition.approved_by,
    }


def api_v1_routes(application: App) -> list[Route]:
    """The routes of ``/api/v1`` and ``/api/openapi.json``."""
    sessions = application.sessions

    def scoped(scope: str) -> Callable[[Handler], Handler]:
        def wrap(handler: Handler) -> Handler:
            async def guarded(request: Request) -> Response:
                token = bearer_token(request)
                found = await run_in_threadpool(authenticate, sessions, token) if token else None
                if found is None:
                    challenge = 'Bearer realm="newsletter"' + (
                        ', error="invalid_token"' if token else ""
                    )
                    return _error(
                        401, "a valid API token is required: Authorization: Bearer <token>",
                        {"WWW-Authenticate": challenge},
                    )  # fmt: skip
                if scope not in found.scopes:
                    return _error(
                        403, f"this token lacks the {scope} scope",
                        {"WWW-Authenticate": f'Bearer realm="newsletter", '
                         f'error="insufficient_scope", scope="{scope}"'},
                    )  # fmt: skip
                request.state.token_name = found.name
                try:
                    return await handler(request)
                except Refused as refused:
                    return _error(refused.status, refused.message)

            return guarded

        return wrap

    def edition_or_404(day: date) -> Any:
        with sessions() as session:
            edition = get_edition(session, day)
            if edition is None:
                raise Refused(404, f"no edition for {day.isoformat()}")
            items = [
                {
                    "position": i.position, "article_id": i.article_id, "title": i.title,
                    "url": i.url, "summary": i.summary, "section": i.section,
                    "score": round(float(i.score), 4), "kind": i.kind,
                }
                for i in edition.items
            ]  # fmt: skip
            return {**_edition_summary(edition), "preheader": edition.preheader, "items": items}

    @scoped("editions:read")
    async def list_editions(request: Request) -> Response:
        """GET /api/v1/editions[?limit=N]: the latest editions, newest first."""
        raw = request.query_params.get("limit", "30")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise Refused(422, f"limit: expected a whole number from 1 to {MAX_LIMIT}")
        with sessions() as session:
            rows = [_edition_summary(e) for e in recent_editions(session, int(raw))]
        return JSONResponse({"editions": rows})

    @scoped("editions:read")
    async def get_one(request: Request) -> Response:
        """GET /api/v1/editions/{date}: an edition with its items."""
        day = _day(request.path_params["day"])
        return JSONResponse(await run_in_threadpool(edition_or_404, day))

    @scoped("editions:write")
    async def approve(request: Request) -> Response:
        """POST /api/v1/editions/{date}/approve: approve the draft (as the token's name)."""
        day = _day(request.path_params["day"])
        edition_or_404(day)
        await _json_object(request)
        by = f"api:{request.state.token_name}"
        try:
            changed = await run_in_threadpool(application.drafts.approve, day, by)
        except UsageError as exc:
            raise Refused(409, str(exc)) from None
        return JSONResponse({**edition_or_404(day), "changed": changed})

    @scoped("editions:write")
    async def hold(request: Request) -> Response:
        """POST /api/v1/editions/{date}/hold ``{"held": true|false}`` (default true)."""
        day = _day(request.path_params["day"])
        edition_or_404(day)
        payload = await _json_object(request)
        held = payload.get("held", True)
        if not isinstance(held, bool):
            raise Refused(422, "held: expected true or false")
        try:
            changed = await run_in_threadpool(application.drafts.hold, day, held)
        except UsageError as exc:
            raise Refused(409, str(exc)) from None
        return JSONResponse({**edition_or_404(day), "changed": changed})

    @scoped("subscribers:write")
    async def create_subscriber(request: Request) -> Response:
        """POST /api/v1/subscribers ``{"email", "name"?, "topics"?}``: a sign-up with
        double opt-in (202; the reader confirms from the email)."""
        payload = await _json_object(request)
        email, name, topics = payload.get("email"), payload.get("name"), payload.get("topics")
        if not isinstance(email, str):
            raise Refused(422, "email: expected an address")
        if name is not None and not isinstance(name, str):
            raise Refused(422, "name: expected a string")
        if topics is not None and (
            not isinstance(topics, list) or not all(isinstance(t, str) for t in topics)
        ):
            raise Refused(422, "topics: expected a list of section names")
        known = set(application.settings.sections)
        chosen = [t for t in topics or [] if t in known]
        try:
            await run_in_threadpool(application.signups.signup, email, name, chosen)
        except InvalidSubscriber as exc:
            raise Refused(422, f"email: {exc}") from None
        except UsageError as exc:  # the confirmation could not be handed over; kept
            raise Refused(503, str(exc)) from None
        return JSONResponse({"status": "pending_confirmation"}, status_code=202)

    def subscriber_view(email: str) -> dict[str, Any]:
        with sessions() as session:
            found = subscriber_by_email(session, email)
            if found is None:
                raise Refused(404, "no subscriber with that address")
            return {
                "email": found.email, "name": found.name, "status": found.status,
                "topics": list(found.topics or []), "frequency": found.frequency,
                "format": found.format, "created_at": found.created_at.isoformat(),
                "confirmed_at": found.confirmed_at.isoformat() if found.confirmed_at else None,
            }  # fmt: skip

    @scoped("subscribers:read")
    async def get_subscriber(request: Request) -> Response:
        """GET /api/v1/subscribers/{email}: a subscriber by address."""
        return JSONResponse(await run_in_threadpool(subscriber_view, request.path_params["email"]))

    @scoped("subscribers:write")
    async def erase(request: Request) -> Response:
        """DELETE /api/v1/subscribers/{email}: erase the subscriber (204); 404 if none."""

        def run() -> bool:
            with transaction(sessions) as session:
                return erase_email(session, request.path_params["email"]).subscriber

        if not await run_in_threadpool(run):
            raise Refused(404, "no subscriber with that address")
        return Response(status_code=204)

    @scoped("reports:read")
    async def report(request: Request) -> Response:
        """GET /api/v1/reports/{date}: the edition's report (as ``newsletter report``)."""
        day = _day(request.path_params["day"])
        found = await run_in_threadpool(application.reports.report, day)
        if found is None:
            raise Refused(404, f"no edition for {day.isoformat()}")
        return JSONResponse(found.as_json())

    async def openapi(request: Request) -> Response:
        """GET /api/openapi.json: the API's OpenAPI 3.1 document."""
        return JSONResponse(openapi_document(application.settings.base_url))

    return [
        Route(f"{PREFIX}/editions", list_editions, methods=["GET"]),
        Route(f"{PREFIX}/editions/{{day}}", get_one, methods=["GET"]),
        Route(f"{PREFIX}/editions/{{day}}/approve", approve, methods=["POST"]),
        Route(f"{PREFIX}/editions/{{day}}/hold", hold, methods=["POST"]),
        Route(f"{PREFIX}/subscribers", create_subscriber, methods=["POST"]),
        Route(f"{PREFIX}/subscribers/{{email}}", get_subscriber, methods=["GET"]),
        Route(f"{PREFIX}/subscribers/{{email}}", erase, methods=["DELETE"]),
        Route(f"{PREFIX}/reports/{{day}}", report, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
    ]


# --- the OpenAPI document ---------------------------------------------------------------
def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _answer("no token, or a wrong or revoked one", _ref("Error")),
    "403": _answer("the token lacks the scope", _ref("Error")),
}
DAY_PARAMETER = {
    "name": "day", "in": "path", "required": True,
    "schema": {"type": "string", "format": "date"},
}  # fmt: skip
EMAIL_PARAMETER = {"name": "email", "in": "path", "required": True, "schema": {"type": "string"}}
NULLABLE_STRING = {"type": ["string", "null"]}


def _operation(scope: str, summary: str, answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary, "security": [{"bearer": [scope]}],
        "responses": {**answers, **ERRORS}, **extra,
    }  # fmt: skip


def openapi_document(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of :func:`api_v1_routes` (``servers``: ``base_url``)."""
    edition = {
        "type": "object",
        "required": ["date", "status", "subject", "held", "approved_by"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "status": {"type": "string", "enum": ["draft", "sending", "paused", "sent"]},
            "subject": {"type": "string"},
            "held": {"type": "boolean"},
            "approved_by": NULLABLE_STRING,
        },
    }
    item = {
        "type": "object",
        "required": ["position", "article_id", "title", "url", "summary", "section", "score"],
        "properties": {
            "position": {"type": "integer"}, "article_id": {"type": ["integer", "null"]},
            "title": {"type": "string"}, "url": {"type": "string"},
            "summary": {"type": "string"}, "section": NULLABLE_STRING, "score": {"type": "number"},
            "kind": {"type": "string", "enum": [kind.value for kind in Kind]},
        },
    }  # fmt: skip
    full = {
        "allOf": [
            _ref("Edition"),
            {
                "type": "object",
                "required": ["preheader", "items"],
                "properties": {
                    "preheader": {"type": "string"},
                    "items": {"type": "array", "items": _ref("Item")},
                },
            },
        ]
    }
    changed = {
        "allOf": [
            _ref("EditionWithItems"),
            {
                "type": "object",
                "required": ["changed"],
                "properties": {"changed": {"type": "boolean"}},
            },
        ]
    }
    count = {"type": "integer", "minimum": 0}
    report = {
        "type": "object",
        "required": ["date", "recipients", "sent", "failed", "bounced", "complained",
                     "unsubscribed", "in_doubt", "clicks"],
        "properties": {
            "date": {"type": "string", "format": "date"}, "recipients": count, "sent": count,
            "failed": count, "bounced": count, "complained": count, "unsubscribed": count,
            "in_doubt": count,
            "clicks": {
                "type": "object", "required": ["total", "by_item"],
                "properties": {
                    "total": count,
                    "by_item": {"type": "array", "items": {
                        "type": "object", "required": ["article_id", "title", "url", "clicks"],
                        "properties": {
                            "article_id": {"type": ["integer", "null"]},
                            "title": {"type": "string"}, "url": {"type": "string"},
                            "clicks": count,
                        },
                    }},
                },
            },
        },
    }  # fmt: skip
    subscriber = {
        "type": "object",
        "required": ["email", "name", "status", "topics", "frequency", "format", "created_at",
                     "confirmed_at"],
        "properties": {
            "email": {"type": "string"}, "name": NULLABLE_STRING,
            "status": {"type": "string",
                       "enum": ["pending", "active", "unsubscribed", "bounced", "complained"]},
            "topics": {"type": "array", "items": {"type": "string"}},
            "frequency": {"type": "string"}, "format": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }  # fmt: skip
    error = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    json_body = {
        "required": False,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "newsletter API", "version": "1"},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Edition": edition,
                "Item": item,
                "EditionWithItems": full,
                "EditionChanged": changed,
                "Report": report,
                "Subscriber": subscriber,
                "Error": error,
            },
        },
        "paths": {
            f"{PREFIX}/editions": {
                "get": _operation(
                    "editions:read",
                    "The latest editions, newest first",
                    {
                        "200": _answer(
                            "the editions",
                            {
                                "type": "object",
                                "required": ["editions"],
                                "properties": {
                                    "editions": {"type": "array", "items": _ref("Edition")}
                                },
                            },
                        ),
                        "422": _answer("a bad limit", _ref("Error")),
                    },
                    parameters=[
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                        }
                    ],
                )
            },
            f"{PREFIX}/editions/{{day}}": {
                "get": _operation(
                    "editions:read",
                    "An edition with its items",
                    {
                        "200": _answer("the edition", _ref("EditionWithItems")),
                        "404": _answer("no edition for the date", _ref("Error")),
                    },
                    parameters=[DAY_PARAMETER],
                )
            },
            f"{PREFIX}/editions/{{day}}/approve": {
                "post": _operation(
                    "editions:write",
                    "Approve the draft (lifts a hold)",
                    {
                        "200": _answer("approved", _ref("EditionChanged")),
                        "404": _answer("no edition for the date", _ref("Error")),
                        "409": _answer("already released", _ref("Error")),
                        "413": _answer("a body too large", _ref("Error")),
                        "422": _answer("a body that is not a JSON object", _ref("Error")),
                    },
                    parameters=[DAY_PARAMETER],
                    requestBody=json_body,
                )
            },
            f"{PREFIX}/editions/{{day}}/hold": {
                "post": _operation(
                    "editions:write",
                    "Hold the draft, or lift the hold",
                    {
                        "200": _answer("held or released", _ref("EditionChanged")),
                        "404": _answer("no edition for the date", _ref("Error")),
                        "409": _answer("already released", _ref("Error")),
                        "413": _answer("a body too large", _ref("Error")),
                        "422": _answer("a bad body", _ref("Error")),
                    },
                    parameters=[DAY_PARAMETER],
                    requestBody={
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"held": {"type": "boolean"}},
                                }
                            }
                        },
                    },
                )
            },
            f"{PREFIX}/subscribers": {
                "post": _operation(
                    "subscribers:write",
                    "Sign a reader up (double opt-in)",
                    {
                        "202": _answer(
                            "a confirmation email was sent",
                            {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"const": "pending_confirmation"}},
                            },
                        ),
                        "413": _answer("a body too large", _ref("Error")),
                        "422": _answer("a bad address or body", _ref("Error")),
                        "503": _answer("the confirmation could not be sent", _ref("Error")),
                    },
                    requestBody={
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["email"],
                                    "properties": {
                                        "email": {"type": "string", "format": "email"},
                                        "name": {"type": "string"},
                                        "topics": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        },
                    },
                )
            },
            f"{PREFIX}/subscribers/{{email}}": {
                "get": _operation(
                    "subscribers:read",
                    "A subscriber by address",
                    {
                        "200": _answer("the subscriber", _ref("Subscriber")),
                        "404": _answer("no subscriber with that address", _ref("Error")),
                    },
                    parameters=[EMAIL_PARAMETER],
                ),
                "delete": _operation(
                    "subscribers:write",
                    "Erase a subscriber (a suppression is kept)",
                    {
                        "204": _answer("erased"),
                        "404": _answer("no subscriber with that address", _ref("Error")),
                    },
                    parameters=[EMAIL_PARAMETER],
                ),
            },
            f"{PREFIX}/reports/{{day}}": {
                "get": _operation(
                    "reports:read",
                    "An edition's report",
                    {
                        "200": _answer("the report", _ref("Report")),
                        "404": _answer("no edition for the date", _ref("Error")),
                    },
                    parameters=[DAY_PARAMETER],
                )
            },
        },
    }
