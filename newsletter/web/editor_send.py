"""The editors' view of an edition's send and its numbers (``/editor/editions/<date>/send``):
the live state of the send (sent, pending, deferred, failed, in doubt, rate, time left) in
a fragment that refreshes itself every few seconds (an HTML meta refresh, no script), pause
and resume buttons, the failures with their reasons, and the edition's report as
``newsletter report`` prints it. ``send.json`` gives the same figures to a program.

Pause and resume call the use case of ``newsletter pause`` and ``resume``
(:meth:`~newsletter.editions.drafts.Drafts.pause`); their forms carry the CSRF token.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter import words
from newsletter.deliver.status import SendingStatus
from newsletter.web.editor_pages import Editors, done, editor_only, form, page, parse_day
from newsletter.web.refusal import Refusal

#: Seconds between two refreshes of the live fragment while the send runs.
REFRESH_SECONDS = 5


def live_figures(now: SendingStatus) -> dict[str, Any]:
    """What the live fragment shows: counts by state, in doubt, rate, time left."""
    counts = now.counts
    return {
        "sent": counts.get("sent", 0),
        "pending": sum(counts.get(state, 0) for state in ("pending", "claimed")),
        "deferred": counts.get("deferred", 0),
        "failed": counts.get("failed", 0),
        "in_doubt": now.in_doubt,
        "total": sum(counts.values()),
        "rate": round(now.rate_per_second, 1),
        "eta": now.eta_seconds,
        "finished": now.finished,
    }


#: Days of the newsroom's view, and its series in order (``DayFigures`` fields).
CHART_DAYS = 30
SERIES = ("sends", "bounces", "complaints", "unsubscribes", "signups", "clicks")
#: Chart geometry (SVG user units): width, plot height, bar step.
CHART_WIDTH, CHART_HEIGHT, BAR_STEP = 600, 120, 20


def nice_top(peak: int) -> int:
    """The axis' top for a series whose largest value is ``peak``: the smallest of 1, 2, 5,
    10, 20, 50 ... that is at least ``peak``."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude >= peak:
                return factor * magnitude
        magnitude *= 10


def chart(key: str, values: list[int]) -> dict[str, Any]:
    """What the template draws of one series: its key, total, axis top and one bar per day
    (``x``, ``height`` in SVG units, ``value``)."""
    top = nice_top(max(values, default=0))
    bars = [
        {"x": index * BAR_STEP, "height": round(CHART_HEIGHT * value / top, 1), "value": value}
        for index, value in enumerate(values)
    ]
    return {"key": key, "total": sum(values), "top": top, "bars": bars}


def routes(editors: Editors) -> list[Route]:
    """The send routes (relative to the editors' prefix)."""
    app = editors.application
    guard = editor_only(editors)

    def day_of(request: Request) -> date:
        return parse_day(request.path_params["day"])

    async def state(day: date) -> tuple[Any, Any, Any]:
        found = await run_in_threadpool(app.reports.live, day)
        report = await run_in_threadpool(app.reports.report, day)
        if found is None or report is None:
            raise Refusal(404, "no_edition", date=words.long_date(day, editors.language))
        return found[0], found[1], report

    @guard
    async def send_page(request: Request) -> Response:
        """GET /editions/<date>/send: the send, its failures, pause/resume, the report."""
        day = day_of(request)
        now, failures, report = await state(day)
        return page(
            request, editors, "send", date=day.isoformat(),
            date_label=words.long_date(day, editors.language), status=now.edition_status,
            live=live_figures(now), failures=failures, report=report,
            can_pause=now.edition_status == "sending", can_resume=now.edition_status == "paused",
        )  # fmt: skip

    @guard
    async def live(request: Request) -> Response:
        """GET /editions/<date>/send/live: the live fragment (framed by the send page;
        refreshes itself while the send runs)."""
        day = day_of(request)
        now, _, _ = await state(day)
        figures = live_figures(now)
        refresh = now.edition_status in ("sending", "paused") or not figures["finished"]
        answer = page(
            request, editors, "send_live", live=figures, status=now.edition_status,
            refresh=REFRESH_SECONDS if refresh else None,
        )  # fmt: skip
        # framed by our own send page only (OWASP Clickjacking Defense)
        answer.headers["X-Frame-Options"] = "SAMEORIGIN"
        answer.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        return answer

    @guard
    async def send_json(request: Request) -> Response:
        """GET /editions/<date>/send.json: ``{"status": <newsletter status --json>,
        "report": <newsletter report --json>}``."""
        day = day_of(request)
        now, _, report = await state(day)
        return JSONResponse({"status": now.as_json(day.isoformat()), "report": report.as_json()})

    async def set_paused(request: Request, paused: bool) -> Response:
        day = day_of(request)
        await form(request)
        await state(day)  # 404 for a date without an edition
        changed = await run_in_threadpool(app.drafts.pause, day, paused)
        path = f"editions/{day.isoformat()}/send"
        if not changed:
            refused = editors.say("send_not_sending" if paused else "send_not_paused")
            return done(request, path, refused, error=True)
        return done(request, path, editors.say("send_paused" if paused else "send_resumed"))

    @guard
    async def pause(request: Request) -> Response:
        """POST /editions/<date>/pause: pause the send (as ``newsletter pause``)."""
        return await set_paused(request, True)

    @guard
    async def resume(request: Request) -> Response:
        """POST /editions/<date>/resume: resume it (as ``newsletter resume``; the scheduler
        or a worker goes on, nothing is sent twice)."""
        return await set_paused(request, False)

    @guard
    async def numbers(request: Request) -> Response:
        """GET /numbers: the last 30 days as charts (SVG drawn here, no script)."""
        days = await run_in_threadpool(app.reports.days, app.today(), CHART_DAYS)
        charts = [chart(key, [getattr(d, key) for d in days]) for key in SERIES]
        labels = [d.day for d in days]
        return page(
            request, editors, "numbers", charts=charts, first=labels[0].isoformat(),
            last=labels[-1].isoformat(), days=len(labels),
            ticks=[(i, labels[i].strftime("%d/%m")) for i in range(0, len(labels), 7)],
        )  # fmt: skip

    return [
        Route("/numbers", numbers, methods=["GET"]),
        Route("/editions/{day}/send", send_page, methods=["GET"]),
        Route("/editions/{day}/send/live", live, methods=["GET"]),
        Route("/editions/{day}/send.json", send_json, methods=["GET"]),
        Route("/editions/{day}/pause", pause, methods=["POST"]),
        Route("/editions/{day}/resume", resume, methods=["POST"]),
    ]
