"""Editors' pages for editions: the list, a draft's preview with its checks and the
editor's decisions (pin, exclude, reorder, subject and preheader), a test send, approval and
hold, and the audit log of the editors' actions. A released edition is shown read-only; a
change to it answers 409.

Every form of a draft's page carries the draft's ``version`` as the page showed it: a
decision or an approval on a draft that changed since answers 409 with the page "the draft
changed, reload" and changes nothing (:class:`~newsletter.editions.drafts.StaleDraft`). A
request without a version applies to the newest draft, as the command line does."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from newsletter import words
from newsletter.audience.records import InvalidSubscriber, normalise_email
from newsletter.compose.kinds import Kind
from newsletter.editions import decisions as editorial
from newsletter.editions.drafts import StaleDraft, note
from newsletter.errors import UsageError
from newsletter.render.edition import GMAIL_CLIP_BYTES
from newsletter.store import audit
from newsletter.store.articles import article_titles
from newsletter.store.editions import EditionLocked, main_item_counts, recent_editions
from newsletter.store.models import Edition
from newsletter.web.editor_pages import (
    Editors,
    actor,
    done,
    editor_only,
    form,
    page,
    parse_day,
    text_field,
)
from newsletter.web.refusal import Refusal

#: Editions listed, newest first.
LISTED = 60
#: Dates an edition may be composed for (as ``newsletter compose --date``).
FIRST_YEAR, LAST_YEAR = 1971, 9998
#: The kinds of item the preview marks with a badge: all but a news report (and sponsored
#: pages, which never reach an edition).
KIND_BADGES = tuple(k.value for k in Kind if k not in (Kind.NEWS, Kind.SPONSORED))
#: The parts of a score shown, in this order (``score_parts``, see ``compose.scoring``);
#: their words are ``editors.score_<part>`` in :mod:`newsletter.words`.
SCORE_PARTS = ("featured", "coverage", "prominence", "recency", "category_weight")
#: The draft's texts an editor may set: their limit (characters, editorial's) and the
#: keys of the refusals "too long" and "on one line".
EDITION_TEXTS = {
    "subject": (editorial.SUBJECT_MAX_CHARS, "subject_too_long", "subject_one_line"),
    "preheader": (editorial.PREHEADER_MAX_CHARS, "preheader_too_long", "preheader_one_line"),
}
#: Item actions of the preview page's buttons.
ACTIONS: dict[str, Callable[..., Edition]] = {
    "pin": editorial.pin,
    "unpin": editorial.unpin,
    "exclude": editorial.exclude,
    "include": editorial.include,
    "up": lambda drafts, day, article_id, **kw: editorial.move(drafts, day, article_id, -1, **kw),
    "down": lambda drafts, day, article_id, **kw: editorial.move(drafts, day, article_id, 1, **kw),
}
#: The actions the audit log records; their words are ``editors.action_<action>``.
AUDIT_ACTIONS = (*ACTIONS, "move", "texts", "decide", "approve", "hold", "unhold", "compose",
                 "test_send", "sign_in", "locked_out")  # fmt: skip
#: Audit entries per page of ``/editor/audit``, and on an edition's page.
AUDIT_PAGE = 50
EDITION_HISTORY = 30
#: Largest version a form may carry (a 32-bit column).
MAX_VERSION = 2**31 - 1


def duration(seconds: float) -> str:
    """``275`` -> ``4 min 35 s``."""
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def routes(editors: Editors) -> list[Route]:
    """The editions' routes (relative to the editors' prefix)."""
    app = editors.application
    guard = editor_only(editors)
    language, t = editors.language, editors.texts

    def status_label(status: str) -> str:
        return t.get(f"status_{status}", status)

    def edition_or_404(day_text: str) -> Edition:
        day = parse_day(day_text)
        edition = app.drafts.get(day)
        if edition is None:
            raise Refusal(404, "no_edition", date=words.long_date(day, language))
        return edition

    @guard
    async def editions(request: Request) -> Response:
        """GET /: the editions, newest first, and a form to compose a date's draft."""

        def load() -> list[dict[str, Any]]:
            with app.sessions() as session:
                rows = recent_editions(session, LISTED)
                counts = main_item_counts(session, [e.id for e in rows])
            return [
                {
                    "day": e.date.isoformat(),
                    "date": words.long_date(e.date, language),
                    "status": e.status,
                    "status_label": status_label(e.status),
                    "subject": e.subject,
                    "articles": counts.get(e.id, 0),
                    "reading": duration(e.reading_seconds),
                    "budget": duration(e.budget_seconds),
                    "held": e.held,
                    "approved_by": e.approved_by,
                }
                for e in rows
            ]

        rows = await run_in_threadpool(load)
        return page(request, editors, "editions", editions=rows, today=app.today().isoformat())

    @guard
    async def compose(request: Request) -> Response:
        """POST /editions (``date``): compose (or recompose) that date's draft; a
        recomposition is a change (new version, approval cleared)."""
        data = await form(request)
        day = parse_day(text_field(data, "date", 20).strip() or app.today().isoformat())
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise Refusal(400, "date_range", first=FIRST_YEAR, last=LAST_YEAR)
        who = actor(request)
        result = await run_in_threadpool(lambda: app.drafts.recompose(day, actor=who))
        if result.locked:
            message = editors.say("locked")
            return done(request, f"editions/{day.isoformat()}", message, error=True)
        message = editors.say("composed", count=len(result.edition.items))
        return done(request, f"editions/{day.isoformat()}", message)

    @guard
    async def preview(request: Request) -> Response:
        """GET /editions/<date>: the preview, its checks and (for a draft) the decisions."""
        edition = edition_or_404(request.path_params["day"])
        view = await run_in_threadpool(editors.previews.get, edition)
        left_out = await run_in_threadpool(editorial.left_out, app.drafts, edition)
        excluded = await run_in_threadpool(_excluded, edition)
        history = await run_in_threadpool(_history, edition)
        cleared = None
        if edition.approved_at is None:
            cleared = next((h["cleared"] for h in history if h["cleared"]), None)
        items = [
            {
                "article_id": item.article_id,
                "title": item.title,
                "url": item.url,
                "section": words.section_title(item.section, language, item.category),
                "source": item.source_name or "",
                "seconds": round(item.reading_seconds),
                "score": item.score,
                "parts": [
                    (t[f"score_{key}"], item.score_parts[key])
                    for key in SCORE_PARTS
                    if key in (item.score_parts or {})
                ],
                "pinned": item.pinned,
                # What the item is, when it is not a news report (a badge).
                "kind": t.get(f"kind_{item.kind}", item.kind) if item.kind in KIND_BADGES else None,
                "also": [a["source"] for a in item.also or ()],
                "first": index == 0,
                "last": index == len(edition.items) - 1,
            }
            for index, item in enumerate(edition.items)
        ]
        budget = edition.budget_seconds or 1
        return page(
            request, editors, "edition",
            day=edition.date.isoformat(),
            date=words.long_date(edition.date, language),
            status=edition.status,
            status_label=status_label(edition.status),
            draft=editorial.is_draft(edition),
            held=edition.held,
            approved_by=edition.approved_by,
            approved_at=_local(edition.approved_at),
            approved_version=edition.approved_version,
            version=edition.version,
            cleared=cleared,
            history=history,
            subject=edition.subject,
            preheader=edition.preheader,
            subject_override=edition.subject_override or "",
            preheader_override=edition.preheader_override or "",
            reading=duration(edition.reading_seconds),
            budget=duration(edition.budget_seconds),
            reading_percent=min(100, round(100 * edition.reading_seconds / budget)),
            over_budget=edition.reading_seconds > edition.budget_seconds,
            html_kb=f"{view.html_bytes / 1000:.1f}".replace(".", t["decimal_mark"]),
            clip_kb=round(GMAIL_CLIP_BYTES / 1000),
            size_percent=min(100, round(100 * view.html_bytes / GMAIL_CLIP_BYTES)),
            size_level=view.size_level,
            warnings=[words.usage_message(w, language) for w in view.warnings],
            text=view.text,
            items=items,
            excluded=excluded,
            left_out=[
                {"article_id": a.id, "title": a.title, "url": a.url, "source": a.source_name or "",
                 "category": a.category or ""}
                for a in left_out
            ],
            variants=[
                {"topics": ", ".join(words.section_title(s, language) for s in key.split(",")),
                 "articles": len(edition.variant_items(key)),
                 "reading": duration(edition.variant_seconds.get(key, 0))}
                for key in edition.variants
            ],
            test_address=request.state.editor,
            subject_max=editorial.SUBJECT_MAX_CHARS,
            preheader_max=editorial.PREHEADER_MAX_CHARS,
            test_prefix=editorial.TEST_PREFIX.strip(),
        )  # fmt: skip

    def _local(moment: datetime | None) -> str | None:
        zone = app.settings.zone
        return moment.astimezone(zone).strftime(t["datetime_format"]) if moment else None

    def _entry_rows(rows: list[tuple[Any, Edition | None]]) -> list[dict[str, Any]]:
        """Audit entries as the pages show them (times local, actions in words)."""
        shown = []
        for entry, edition in rows:
            cleared = (entry.details or {}).get("approval_cleared")
            shown.append({
                "when": _local(entry.at), "who": entry.actor, "where": entry.address or "",
                "what": t.get(f"action_{entry.action}", entry.action),
                "target": entry.target or "", "version": entry.version,
                "day": edition.date.isoformat() if edition else None,
                "date": words.long_date(edition.date, language) if edition else "",
                "details": ", ".join(
                    f"{k}: {v}" for k, v in sorted((entry.details or {}).items())
                    if k != "approval_cleared"
                ),
                "cleared": {"by": cleared.get("by"), "version": cleared.get("version"),
                            "changer": entry.actor, "when": _local(entry.at)}
                if isinstance(cleared, dict) else None,
            })  # fmt: skip
        return shown

    def _history(edition: Edition) -> list[dict[str, Any]]:
        with app.sessions() as session:
            rows = audit.entries(session, limit=EDITION_HISTORY, edition_id=edition.id)
        return _entry_rows(rows)

    @guard
    async def audit_log(request: Request) -> Response:
        """GET /audit (``page``: 1, 2, …): the editors' actions, latest first."""
        number = request.query_params.get("page", "1")
        if not re.fullmatch(r"[0-9]{1,7}", number) or int(number) < 1:
            raise Refusal(400, "bad_page")

        def load() -> tuple[list[dict[str, Any]], int]:
            with app.sessions() as session:
                total = audit.count(session)
                rows = audit.entries(
                    session, limit=AUDIT_PAGE, offset=(int(number) - 1) * AUDIT_PAGE
                )
            return _entry_rows(rows), total

        rows, total = await run_in_threadpool(load)
        pages = max(1, -(-total // AUDIT_PAGE))
        if int(number) > pages:
            raise Refusal(404, "bad_page")
        return page(request, editors, "audit", entries=rows, page_number=int(number),
                    pages=pages)  # fmt: skip

    def _excluded(edition: Edition) -> list[dict[str, Any]]:
        ids = list(edition.excludes or [])
        if not ids:
            return []
        with app.sessions() as session:
            titles = article_titles(session, ids)
        return [{"article_id": i, "title": titles.get(i, f"article #{i}")} for i in ids]

    @guard
    async def email_html(request: Request) -> Response:
        """GET /editions/<date>/email.html: the email's HTML as readers get it (the
        preview's frames). Scripts are refused by the CSP; only our own pages frame it."""
        edition = edition_or_404(request.path_params["day"])
        view = await run_in_threadpool(editors.previews.get, edition)
        return HTMLResponse(
            view.html,
            headers={
                "Content-Security-Policy": "default-src 'none'; img-src https: http: data:; "
                "style-src 'unsafe-inline'; frame-ancestors 'self'",
                "X-Frame-Options": "SAMEORIGIN",
            },
        )

    def stale(request: Request, exc: StaleDraft) -> Response:
        """409: the draft changed since the editor's page showed it; nothing changed."""
        return page(
            request, editors, "stale", status_code=409, day=request.path_params["day"],
            message=editors.say("stale", seen=exc.seen, current=exc.current),
        )  # fmt: skip

    def version_of(data: FormData) -> int | None:
        """The ``version`` field (the draft's version the page showed); None when absent;
        400 for anything but a number."""
        value = text_field(data, "version", 12).strip()
        if not value:
            return None
        if not re.fullmatch(r"[0-9]{1,10}", value) or not 0 < int(value) <= MAX_VERSION:
            raise Refusal(400, "bad_version")
        return int(value)

    async def change(request: Request, work: Callable[[], object], message: str) -> Response:
        """Run a change of the draft and go back to its page; 400 for a request that
        cannot apply, 409 for a released edition or a draft that changed since the page
        showed it (the page "the draft changed, reload")."""
        day = request.path_params["day"]
        try:
            await run_in_threadpool(work)
        except StaleDraft as exc:
            return stale(request, exc)
        except EditionLocked:
            raise Refusal(409, "locked") from None
        except UsageError as exc:
            raise HTTPException(400, words.usage_message(exc, language)) from None
        return done(request, f"editions/{day}", message)

    @guard
    async def item_action(request: Request) -> Response:
        """POST /editions/<date>/items/<article id> (``action``: pin, unpin, exclude,
        include, up, down)."""
        edition = edition_or_404(request.path_params["day"])
        data = await form(request)
        action = text_field(data, "action", 20)
        if action not in ACTIONS:
            raise Refusal(400, "unknown_action")
        article_id = request.path_params["article_id"]
        version, who = version_of(data), actor(request)
        return await change(
            request,
            lambda: ACTIONS[action](app.drafts, edition.date, article_id, version=version,
                                    actor=who),
            editors.say(f"done_{action}"),
        )  # fmt: skip

    @guard
    async def texts(request: Request) -> Response:
        """POST /editions/<date>/texts (``subject``, ``preheader``; '' restores the
        generated one)."""
        edition = edition_or_404(request.path_params["day"])
        data = await form(request)
        subject = _edition_text(data, "subject") if "subject" in data else None
        preheader = _edition_text(data, "preheader") if "preheader" in data else None
        version, who = version_of(data), actor(request)
        return await change(
            request,
            lambda: editorial.set_texts(app.drafts, edition.date, subject, preheader,
                                        version=version, actor=who),
            editors.say("texts_saved"),
        )  # fmt: skip

    def _edition_text(data: FormData, name: str) -> str:
        """The subject or preheader field, checked here to be refused in the page's words
        (the limits are editorial's, as the form's ``maxlength``)."""
        limit, too_long, one_line = EDITION_TEXTS[name]
        value = data.get(name) or ""
        if not isinstance(value, str):
            raise Refusal(400, "field_not_text", name=name)
        if len(value) > limit:
            raise Refusal(400, too_long, limit=limit)
        if any(c in value for c in "\r\n\x00"):
            raise Refusal(400, one_line)
        return value

    @guard
    async def test_send(request: Request) -> Response:
        """POST /editions/<date>/test (``email``): the edition to that address, subject
        marked "[TEST]", through the configured provider; no delivery is recorded."""
        edition = edition_or_404(request.path_params["day"])
        data = await form(request)
        address = text_field(data, "email", 320).strip()
        if not address:
            raise Refusal(400, "test_address_missing")
        try:
            normalise_email(address)
        except InvalidSubscriber:  # the validator's English detail is left out
            raise Refusal(400, "test_address_invalid", address=address) from None
        view = await run_in_threadpool(editors.previews.get, edition)
        try:
            answer = await run_in_threadpool(
                editorial.send_proof, app.renderer, app.outgoing, edition, address, view
            )
        except UsageError as exc:
            raise HTTPException(400, words.usage_message(exc, language)) from None
        await run_in_threadpool(
            note, app.drafts, edition.date, actor(request), "test_send", target=address
        )
        return done(
            request, f"editions/{edition.date.isoformat()}",
            editors.say("test_sent", address=address, answer=answer),
        )  # fmt: skip

    @guard
    async def approve(request: Request) -> Response:
        """POST /editions/<date>/approve: approve the draft as the signed-in editor (lifts
        a hold)."""
        edition = edition_or_404(request.path_params["day"])
        data = await form(request)
        version = version_of(data)
        if not editorial.is_draft(edition):
            raise Refusal(409, "locked")
        if not edition.items:
            raise Refusal(409, "empty_approval")
        who = actor(request)
        try:
            changed = await run_in_threadpool(
                lambda: app.drafts.approve(
                    edition.date, who.who, version=version, address=who.address
                )
            )
        except StaleDraft as exc:  # an approval names the content the editor saw
            return stale(request, exc)
        except UsageError:  # released meanwhile (the scheduler): not the use case's English
            raise Refusal(409, "locked") from None
        message = editors.say("approved" if changed else "already_approved")
        return done(request, f"editions/{edition.date.isoformat()}", message)

    @guard
    async def hold(request: Request) -> Response:
        """POST /editions/<date>/hold (``held``: 1 to hold, 0 to lift the hold)."""
        edition = edition_or_404(request.path_params["day"])
        data = await form(request)
        value = text_field(data, "held", 5)
        if value not in ("0", "1"):
            raise Refusal(400, "bad_held")
        if not editorial.is_draft(edition):
            raise Refusal(409, "locked_pause")
        held = value == "1"
        try:
            await run_in_threadpool(
                lambda: app.drafts.hold(edition.date, held, actor=actor(request))
            )
        except UsageError:  # released meanwhile (the scheduler): not the use case's English
            raise Refusal(409, "locked_pause") from None
        message = editors.say("held" if held else "released")
        return done(request, f"editions/{edition.date.isoformat()}", message)

    return [
        Route("/", editions, methods=["GET"]),
        Route("/editions", compose, methods=["POST"]),
        Route("/editions/{day}", preview, methods=["GET"]),
        Route("/editions/{day}/email.html", email_html, methods=["GET"]),
        Route("/editions/{day}/items/{article_id:int}", item_action, methods=["POST"]),
        Route("/editions/{day}/texts", texts, methods=["POST"]),
        Route("/editions/{day}/test", test_send, methods=["POST"]),
        Route("/editions/{day}/approve", approve, methods=["POST"]),
        Route("/editions/{day}/hold", hold, methods=["POST"]),
        Route("/audit", audit_log, methods=["GET"]),
    ]
