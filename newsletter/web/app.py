"""Readers' pages (Starlette): unsubscribe, preferences, the public archive.

Links in emails are opened by mail scanners, so a GET never changes anything: it shows a
page with a button, and the POST acts. The RFC 8058 one-click POST to the List-Unsubscribe
URL (body ``List-Unsubscribe=One-Click``, form-encoded or multipart, or empty) unsubscribes
at once, needs no cookie or CSRF token (the signed token is the capability), answers 200
without a redirect and is idempotent. A forged, expired or wrong-purpose token gets a clear
page with a 4xx status and changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from newsletter import words
from newsletter.audience.records import InvalidSubscriber, make_record
from newsletter.audience.signup import confirm
from newsletter.errors import UsageError
from newsletter.links import Purpose, TokenError, TokenExpired
from newsletter.render.templates import environment
from newsletter.store.db import transaction
from newsletter.store.editions import released_editions
from newsletter.store.models import EditionStatus, Subscriber, SubscriberStatus
from newsletter.store.preferences import save_preferences as save_subscriber_preferences
from newsletter.store.subscribers import get_subscriber
from newsletter.store.subscribers import unsubscribe as unsubscribe_subscriber
from newsletter.web.api_articles import BODY_LIMITS as API_BODY_LIMITS
from newsletter.web.api_articles import api_article_routes
from newsletter.web.api_v1 import api_v1_routes
from newsletter.web.bad_requests import client_gone, message_key
from newsletter.web.bodylimit import BodyLimit
from newsletter.web.editor import create_editor_app
from newsletter.web.embed import SubscribeCORS, embed_routes
from newsletter.web.health import Running, health_routes
from newsletter.web.preferences import (
    MAX_PAUSE_DAYS,
    PreferencesInvalid,
    parse_preferences,
    time_zones,
)
from newsletter.web.ratelimit import SlidingWindow
from newsletter.web.redirect import redirect_routes
from newsletter.web.webhooks import BODY_LIMITS as WEBHOOK_BODY_LIMITS
from newsletter.web.webhooks import Webhooks
from newsletter.wiring import App

#: Largest request body read (bytes): forms here are tiny.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


#: Sign-ups allowed per hour from one IP address, and for one email address.
SIGNUPS_PER_IP = 10
SIGNUPS_PER_ADDRESS = 3
LOG = logging.getLogger("newsletter.web")
#: Message keys (``readers.*`` in newsletter.words): too many sign-ups, and the one answer to a
#: sign-up, whether or not the address was known (no enumeration).
TOO_MANY = "too_many"
SIGNUP_ANSWER = "signup_answer"


def mask(email: str) -> str:
    """``helene@example.org`` -> ``h***e@example.org`` (a page may be seen by others)."""
    local, _, domain = email.partition("@")
    shown = local[0] + "***" + local[-1] if len(local) > 2 else local[:1] + "***"
    return f"{shown}@{domain}"


def page(
    template: str, status_code: int = 200, *, language: str = "fr", **context: object
) -> HTMLResponse:
    """A rendered page in ``language`` (its words as ``t``: ``readers.*`` in
    :mod:`newsletter.words`), never cached: it may show a reader's address."""
    html = (
        environment()
        .get_template(f"pages/{template}.html.j2")
        .render(t=words.table(language, "readers"), lang=words.language_of(language), **context)
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def create_app(
    application: App, webhooks: Webhooks | None = None, *, scheduler: Running | None = None
) -> Starlette:
    """The ASGI app for ``application`` (settings, database, links); ``webhooks`` is the
    provider-webhook endpoint (default: built from ``application``'s settings);
    ``scheduler`` (under ``newsletter run``) is reported by ``/readyz``."""

    links = application.links
    title = application.settings.title
    language = application.settings.language

    def show(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
        """A page in the newsletter's language."""
        return page(template, status_code, language=language, **context)

    def say(key: str) -> str:
        """Message ``key`` in the newsletter's language."""
        return words.message("readers", key, language)

    def subscriber_for(purpose: Purpose, token: str) -> Subscriber:
        """The subscriber a ``purpose`` token names; 400 forged, 410 expired, 404 gone."""
        try:
            subscriber_id = links.verify(purpose, token)
        except TokenExpired as exc:
            raise HTTPException(410, "link_expired") from exc
        except TokenError as exc:
            raise HTTPException(400, "link_invalid") from exc
        with application.sessions() as session:
            subscriber = get_subscriber(session, subscriber_id)
        if subscriber is None:
            raise HTTPException(404, "subscriber_gone")
        return subscriber

    async def unsubscribe_page(request: Request) -> Response:
        """GET /u/<token>: a page with a button; changes nothing (mail scanners)."""
        token = request.path_params["token"]
        subscriber = subscriber_for(Purpose.UNSUBSCRIBE, token)
        done = subscriber.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)
        return show(
            "unsubscribe", title=title, email=mask(subscriber.email), done=done,
            action=request.url.path,
        )  # fmt: skip

    async def unsubscribe(request: Request) -> Response:
        """POST /u/<token>: unsubscribe (the page's button or RFC 8058 one-click), idempotent.
        A bounced or complained status is kept (it says more than "unsubscribed")."""
        token = request.path_params["token"]
        subscriber = subscriber_for(Purpose.UNSUBSCRIBE, token)
        body = await request.body()
        one_click = not body
        if body and request.headers.get("content-type", "").startswith(FORM_TYPES):
            form = await request.form(max_files=0, max_fields=20)
            one_click = form.get("List-Unsubscribe") == "One-Click"
        with transaction(application.sessions) as session:
            row = get_subscriber(session, subscriber.id)
            if row is not None:
                unsubscribe_subscriber(session, row)
        if one_click:  # RFC 8058: a mail client's POST; a short plain answer, no redirect
            return Response("Unsubscribed.\n", media_type="text/plain; charset=utf-8")
        return show("unsubscribe", title=title, email=mask(subscriber.email), done=True, action="")

    async def preferences_page(request: Request) -> Response:
        """GET /p/<token>: the reader's preferences, with their current values."""
        subscriber = subscriber_for(Purpose.PREFERENCES, request.path_params["token"])
        return _preferences(request, subscriber)

    async def save_preferences(request: Request) -> Response:
        """POST /p/<token>: save the preferences (all fields checked first: one bad value
        saves nothing and answers 400 with the form and the reason)."""
        subscriber = subscriber_for(Purpose.PREFERENCES, request.path_params["token"])
        if not request.headers.get("content-type", "").startswith(FORM_TYPES):
            raise HTTPException(415, "send_the_form")
        form = await request.form(max_files=0, max_fields=100)
        fields = {key: [str(v) for v in form.getlist(key)] for key in form}
        try:
            change = parse_preferences(
                fields, known_topics=_topics(subscriber), today=application.today()
            )
        except PreferencesInvalid as exc:
            return _preferences(request, subscriber, error=say(exc.key), status_code=400)
        with transaction(application.sessions) as session:
            row = save_subscriber_preferences(session, subscriber.id, change)
            if row is None:
                raise HTTPException(404, "subscriber_gone")
            subscriber = row
        return _preferences(request, subscriber, saved=True)

    def _topics(subscriber: Subscriber) -> list[str]:
        return list(dict.fromkeys([*application.settings.sections, *(subscriber.topics or [])]))

    def _preferences(
        request: Request, subscriber: Subscriber, *, saved: bool = False,
        error: str | None = None, status_code: int = 200,
    ) -> Response:  # fmt: skip
        chosen = set(subscriber.topics or [])
        topics = [
            {"slug": slug, "title": words.section_title(slug, language), "on": slug in chosen}
            for slug in _topics(subscriber)
        ]
        today = application.today()
        paused = subscriber.paused_until if (subscriber.paused_until or today) > today else None
        zones = time_zones()
        if subscriber.timezone and subscriber.timezone not in zones:
            zones = sorted([*zones, subscriber.timezone])
        return show(
            "preferences", status_code=status_code, title=title, email=mask(subscriber.email),
            topics=topics, saved=saved, error=error, action=request.url.path,
            # A path, like every other form here: the page may be served under another host
            # or port than NEWSLETTER_BASE_URL (behind a proxy, a test server).
            unsubscribe=urlsplit(links.subscriber_url(Purpose.UNSUBSCRIBE, subscriber.id)).path,
            active=subscriber.status == SubscriberStatus.ACTIVE,
            frequency=subscriber.frequency or "daily", weekday=subscriber.weekday,
            weekdays=words.weekday_names(language),
            paused_until=paused.isoformat() if paused else "",
            paused_label=words.long_date(paused, language) if paused else "",
            pause_min=(today + timedelta(days=1)).isoformat(),
            pause_max=(today + timedelta(days=MAX_PAUSE_DAYS)).isoformat(),
            format=subscriber.format or "html", timezone=subscriber.timezone or "",
            zones=zones, default_zone=application.settings.timezone,
        )  # fmt: skip

    async def edition_page(request: Request) -> Response:
        """GET /editions/YYYY-MM-DD: a released edition without personal links."""
        value = request.path_params["day"]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise HTTPException(404, "edition_missing")
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise HTTPException(404, "edition_missing") from exc
        edition = application.drafts.get(day)
        if edition is None or edition.status == EditionStatus.DRAFT:
            raise HTTPException(404, "edition_not_yet")
        rendered = application.renderer.render(edition, public=True)
        html, _ = rendered.fill({"email": "", "unsubscribe_url": "", "preferences_url": ""})
        return HTMLResponse(html)

    async def archive(request: Request) -> Response:
        """GET /archive: released editions, newest first (a year at most)."""
        with application.sessions() as session:
            editions = released_editions(session, 365)
        rows = [
            {
                "url": links.edition_url(e.date),
                "date": words.long_date(e.date, language),
                "subject": e.subject,
            }
            for e in editions
        ]
        return show("archive", title=title, editions=rows)

    per_ip = SlidingWindow(SIGNUPS_PER_IP, 3600)
    per_address = SlidingWindow(SIGNUPS_PER_ADDRESS, 3600)

    async def signup_form(request: Request) -> Response:
        """GET /subscribe: the sign-up form."""
        return _signup_page(request)

    def _signup_page(
        request: Request, *, error: str | None = None, done: bool = False, status_code: int = 200
    ) -> Response:
        topics = [
            {"slug": s, "title": words.section_title(s, language)}
            for s in application.settings.sections
        ]
        return show(
            "subscribe", status_code=status_code, title=title, topics=topics,
            error=say(error) if error else None, done=done,
        )  # fmt: skip

    def _signup(
        request: Request, email: str, name: str | None, topics: list[str]
    ) -> tuple[int, str, BackgroundTask | None]:
        """(status, message, work) of a sign-up. Everything that depends on whether the
        address is known (the database, the confirmation email) runs after the answer, so
        neither the answer nor its timing tells (no enumeration)."""
        client = request.client.host if request.client else "?"
        if not per_ip.allow(client):
            return 429, TOO_MANY, None
        try:
            record = make_record(email, name)
        except InvalidSubscriber:
            return 400, "email_invalid", None
        if not per_address.allow(record.email.lower()):  # the stored form: no respelling
            return 429, TOO_MANY, None
        known = set(application.settings.sections)
        chosen = [t for t in topics if t in known]
        return 202, SIGNUP_ANSWER, BackgroundTask(_signup_later, record.email, record.name, chosen)

    def _signup_later(email: str, name: str | None, topics: list[str]) -> None:
        try:
            application.signups.signup(email, name, topics)
        except (InvalidSubscriber, UsageError) as exc:
            LOG.warning("sign-up of %s not completed: %s", mask(email), exc)

    async def signup_submit(request: Request) -> Response:
        """POST /subscribe: a form sign-up; the same answer for known and new addresses."""
        form = await request.form(max_files=0, max_fields=50)
        status, message, work = _signup(
            request, str(form.get("email") or ""), str(form.get("name") or "") or None,
            [str(t) for t in form.getlist("topics")],
        )  # fmt: skip
        if status == 202:
            answer = show(
                "subscribe", title=title, topics=[], error=None, done=True, message=say(message)
            )
            answer.background = work
            return answer
        return _signup_page(request, error=message, status_code=status)

    async def signup_json(request: Request) -> Response:
        """POST /api/subscribe: JSON sign-up; 202, 400 (bad input), 429 or 503."""
        try:
            payload = json.loads(await request.body())
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return JSONResponse({"error": say("json_object")}, status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("email"), str):
            return JSONResponse({"error": say("json_email")}, status_code=400)
        topics = payload.get("topics") or []
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            return JSONResponse({"error": say("json_topics")}, status_code=400)
        name = payload.get("name") if isinstance(payload.get("name"), str) else None
        status, message, work = _signup(request, payload["email"], name, topics)
        body = (
            {"status": "pending_confirmation", "message": say(message)}
            if status == 202
            else {"error": say(message)}
        )
        return JSONResponse(body, status_code=status, background=work)

    def _confirmed_subscriber(token: str) -> int:
        try:
            return links.verify(
                Purpose.CONFIRM, token, max_age=int(application.settings.confirm_days * 86400)
            )
        except TokenExpired as exc:
            raise HTTPException(410, "confirm_expired") from exc
        except TokenError as exc:
            raise HTTPException(400, "link_invalid") from exc

    async def confirm_page(request: Request) -> Response:
        """GET /c/<token>: a page with a confirmation button; changes nothing."""
        subscriber_id = _confirmed_subscriber(request.path_params["token"])
        with application.sessions() as session:
            subscriber = get_subscriber(session, subscriber_id)
        if subscriber is None:
            raise HTTPException(404, "subscriber_gone")
        done = subscriber.status == SubscriberStatus.ACTIVE
        return show("confirm", title=title, done=done, action=request.url.path)

    async def confirm_submit(request: Request) -> Response:
        """POST /c/<token>: activate the subscription (idempotent)."""
        subscriber_id = _confirmed_subscriber(request.path_params["token"])
        if await request.body() and request.headers.get("content-type", "").startswith(
            FORM_TYPES
        ):  # the button sends an empty form; a malformed one is refused (400), not acted on
            await request.form(max_files=0, max_fields=20)
        if confirm(application.sessions, subscriber_id) is None:
            raise HTTPException(404, "subscriber_gone")
        return show("confirm", title=title, done=True, action="")

    async def error(request: Request, exc: Exception) -> Response:
        """Every error as a page with its status (4xx for bad input); nothing changed."""
        status = getattr(exc, "status_code", 500)
        detail = str(getattr(exc, "detail", "") or "error")
        if status == 405:
            detail = "method_not_allowed"
        elif status == 404 and detail == "Not Found":  # Starlette's: no such route
            detail = "not_found"
        # Starlette's own English ("Too many files...", "Missing boundary..."): our words
        detail = message_key(status, detail, words.table(language, "readers"))
        if request.url.path.startswith("/api/"):  # a program: the same words, as JSON
            return JSONResponse({"error": say(detail)}, status_code=status)
        return show("error", status_code=status, title=title, message=say(detail))

    return Starlette(
        routes=[
            Route("/u/{token}", unsubscribe_page, methods=["GET"]),
            Route("/u/{token}", unsubscribe, methods=["POST"]),
            Route("/p/{token}", preferences_page, methods=["GET"]),
            Route("/p/{token}", save_preferences, methods=["POST"]),
            Route("/editions/{day}", edition_page, methods=["GET"]),
            Route("/archive", archive, methods=["GET"]),
            Route("/subscribe", signup_form, methods=["GET"]),
            Route("/subscribe", signup_submit, methods=["POST"]),
            Route("/api/subscribe", signup_json, methods=["POST"]),
            *embed_routes(application, _signup),  # /embed/subscribe: the box other sites frame
            *api_article_routes(application),  # POST /api/articles: the CMS push
            *api_v1_routes(application),  # /api/v1: editions, subscribers, reports
            *redirect_routes(application),  # GET /r/<token>: article links, clicks counted
            Route("/c/{token}", confirm_page, methods=["GET"]),
            Route("/c/{token}", confirm_submit, methods=["POST"]),
            *(webhooks or Webhooks(application)).routes(),  # POST /webhooks/{provider}
            *health_routes(application, scheduler),  # /healthz, /readyz
            # Editors' pages: their own sessions, CSRF and body limit.
            Mount("/editor", app=create_editor_app(application)),
        ],
        exception_handlers={
            HTTPException: error,
            404: error,
            405: error,
            ClientDisconnect: client_gone,  # a client that left mid-body: quietly
        },
        middleware=[
            # CORS of /api/subscribe, for NEWSLETTER_ALLOWED_ORIGINS only
            Middleware(SubscribeCORS, origins=application.settings.allowed_origins),
            Middleware(
                BodyLimit,
                larger={**WEBHOOK_BODY_LIMITS, **API_BODY_LIMITS},
                skip=("/editor/",),
                refuse=lambda request: error(request, HTTPException(413, "too_large")),
            ),
        ],
    )
