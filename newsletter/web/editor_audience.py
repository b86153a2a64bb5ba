"""Editors' pages for the audience: counts by state, search by address, erasure of a
person's data, CSV import (the command line's import, with its per-line errors, run in the
background with its progress on a page of its own) and streamed lossless export, the
suppression list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from newsletter.audience.background import BackgroundImports
from newsletter.audience.records import export_batch, export_header, known_topics
from newsletter.store.erasure import erase_address
from newsletter.store.imports import (
    DONE,
    FAILED,
    RUNNING,
    ImportView,
    get_import,
    recent_imports,
    running_import,
)
from newsletter.store.models import Subscriber
from newsletter.store.subscribers import count_by_status, search_subscribers
from newsletter.store.suppressions import recent_suppressions
from newsletter.web.editor_pages import Editors, done, editor_only, form, href, page
from newsletter.web.refusal import Refusal

#: Largest CSV accepted by the import form, in bytes (about 100,000 subscribers).
MAX_IMPORT_BYTES = 10 * 1024 * 1024
#: Longest search, in characters (an address: 64 + 1 + 255, RFC 3696 section 3).
MAX_QUERY = 320
#: Rows shown by a search, and suppressions listed.
SHOWN = 100
SUPPRESSIONS_SHOWN = 500
#: How long an import's request waits for it, in seconds, before it answers with the
#: import's progress page (a request never lasts 30 s: the import goes on in the background).
IMPORT_WAIT = 8.0
#: Seconds between two reloads of a running import's page.
IMPORT_REFRESH = 2
#: Imports listed on the subscribers' page.
IMPORTS_SHOWN = 5
#: Subscribers read per query of the export.
EXPORT_BATCH = 1000


def routes(editors: Editors) -> list[Route]:
    """The audience routes (relative to the editors' prefix)."""
    app = editors.application
    guard = editor_only(editors)
    t = editors.texts
    imports = BackgroundImports(
        app.sessions, known_topics(app.settings.sections, app.settings.language)
    )

    def too_large() -> Refusal:
        return Refusal(413, "import_too_large", mb=MAX_IMPORT_BYTES // 2**20)

    def overview(query: str) -> tuple[dict[str, int], list[dict[str, Any]]]:
        with app.sessions() as session:
            counts = count_by_status(session)
            found: list[Subscriber] = []
            if query:
                found = search_subscribers(session, query, SHOWN)
        rows = [
            {
                "email": s.email, "name": s.name or "",
                "status": t.get(f"subscriber_{s.status}", s.status),
                "topics": ", ".join(s.topics or []),
                "created": s.created_at.strftime(t["date_format"]),
            }
            for s in found
        ]  # fmt: skip
        return counts, rows

    def _page(request: Request, query: str = "", report: Any = None, status_code: int = 200
              ) -> Response:  # fmt: skip
        counts, rows = overview(query)
        with app.sessions() as session:
            latest = recent_imports(session, IMPORTS_SHOWN)
        return page(
            request, editors, "subscribers", status_code=status_code,
            counts=[(t.get(f"audience_{k}", k), v) for k, v in counts.items()],
            total=sum(counts.values()), query=query, rows=rows, searched=bool(query),
            shown=SHOWN, report=report, max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
            imports=latest,
        )  # fmt: skip

    @guard
    async def subscribers(request: Request) -> Response:
        """GET /subscribers (``q``: part of an address): counts by state and the matches."""
        query = request.query_params.get("q", "").strip()
        if len(query) > MAX_QUERY:
            raise Refusal(400, "search_too_long", limit=MAX_QUERY)
        if any(ord(c) < 32 for c in query):  # PostgreSQL refuses NUL in a string
            raise Refusal(400, "search_control")
        return await run_in_threadpool(_page, request, query)

    @guard
    async def import_subscribers(request: Request) -> Response:
        """POST /subscribers/import (multipart ``file``): the CSV import of the command line
        (header ``email[,name,topics,timezone]``, or an export's columns), run in the
        background. A file imported within :data:`IMPORT_WAIT` seconds gets its report at
        once (rejected lines listed); a larger one 303 to its progress page. 409 while
        another import runs."""
        if int(request.headers.get("content-length") or 0) > MAX_IMPORT_BYTES + 64 * 1024:
            raise too_large()
        data = await form(request, max_files=1, max_fields=5)
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Refusal(400, "import_no_file")
        content = await upload.read(MAX_IMPORT_BYTES + 1)
        if len(content) > MAX_IMPORT_BYTES:
            raise too_large()

        def busy() -> bool:
            with app.sessions() as session:
                return running_import(session) is not None

        if await run_in_threadpool(busy):
            raise Refusal(409, "import_running")
        import_id = await run_in_threadpool(imports.start, content, upload.filename)
        finished = await run_in_threadpool(imports.wait, import_id, IMPORT_WAIT)
        if not finished:
            return RedirectResponse(href(request, f"subscribers/imports/{import_id}"), 303)
        view = await run_in_threadpool(load_import, import_id)
        if view is not None and view.status == FAILED:
            reason = (view.error or "").split(": ", 1)[-1]  # the file's name means nothing
            raise Refusal(400, "import_refused", reason=reason)
        return await run_in_threadpool(_page, request, "", view.report if view else None)

    def load_import(import_id: int) -> ImportView | None:
        with app.sessions() as session:
            return get_import(session, import_id)

    @guard
    async def import_progress(request: Request) -> Response:
        """GET /subscribers/imports/{id}: an import's progress (the page reloads itself
        every :data:`IMPORT_REFRESH` seconds while it runs), then its report."""
        raw = request.path_params["import_id"]
        if not raw.isdigit() or len(raw) > 12:
            raise Refusal(404, "import_unknown")
        view = await run_in_threadpool(load_import, int(raw))
        if view is None:
            raise Refusal(404, "import_unknown")
        response = page(request, editors, "import", job=view, report=view.report,
                        running=view.status == RUNNING, done=view.status == DONE)  # fmt: skip
        if view.status == RUNNING:
            response.headers["Refresh"] = str(IMPORT_REFRESH)
        return response

    @guard
    async def export(request: Request) -> Response:
        """GET /subscribers/export.csv: every subscriber, every column an import restores
        (``newsletter subscribers export``'s file), streamed (flat memory)."""

        async def rows() -> AsyncIterator[str]:
            yield export_header()  # with a BOM: spreadsheets then read UTF-8
            after = 0
            while True:
                text, last, count = await run_in_threadpool(
                    export_batch, app.sessions, after, EXPORT_BATCH
                )
                if count == 0:
                    return
                yield text
                after = last

        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
        )

    @guard
    async def erase(request: Request) -> Response:
        """POST /subscribers/erase (``email``, ``confirm``): erase the person's data (GDPR
        art. 17, see :mod:`newsletter.store.erasure`) and go back to the page."""
        data = await form(request, max_fields=5)
        email = str(data.get("email") or "").strip()
        if not email or len(email) > MAX_QUERY or any(ord(c) < 32 for c in email):
            raise Refusal(400, "erase_no_address")
        if data.get("confirm") != "yes":
            raise Refusal(400, "erase_unconfirmed")
        erased = await run_in_threadpool(erase_address, app.sessions, email)
        if not erased.found:
            raise Refusal(404, "erase_unknown", email=email)
        message = t["erase_done"].format(email=email, deliveries=erased.deliveries)
        if erased.suppression:
            message += t["erase_still_suppressed"]
        return done(request, "/subscribers", message)

    @guard
    async def suppressions(request: Request) -> Response:
        """GET /suppressions: addresses never mailed again, newest first."""

        def load() -> list[dict[str, str]]:
            with app.sessions() as session:
                rows = recent_suppressions(session, SUPPRESSIONS_SHOWN)
            zone = app.settings.zone
            return [
                {
                    "email": r.email_key,
                    "reason": r.reason,
                    "detail": r.detail or "",
                    "created": r.created_at.astimezone(zone).strftime(t["datetime_format"]),
                }
                for r in rows
            ]

        rows = await run_in_threadpool(load)
        return page(request, editors, "suppressions", rows=rows, shown=SUPPRESSIONS_SHOWN)

    return [
        Route("/subscribers", subscribers, methods=["GET"]),
        Route("/subscribers/import", import_subscribers, methods=["POST"]),
        Route("/subscribers/imports/{import_id}", import_progress, methods=["GET"]),
        Route("/subscribers/export.csv", export, methods=["GET"]),
        Route("/subscribers/erase", erase, methods=["POST"]),
        Route("/suppressions", suppressions, methods=["GET"]),
    ]
