"""The editors' page of the sources: each registered feed with its health (last poll, its
status, the failures in a row, the last error, the next poll). Read-only: sources are
added and removed with ``newsletter sources`` or the ``[[sources]]`` of the configuration."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.web.editor_pages import Editors, editor_only, page

#: The statuses of a poll that worked, shown in words (``editors.sources_status_*``); an
#: error word (``http_500``, ``timeout`` ...) is shown as it is, with its message.
POLL_STATUSES = ("200", "not_modified")


def routes(editors: Editors) -> list[Route]:
    """The sources route (relative to the editors' prefix)."""
    app = editors.application
    guard = editor_only(editors)
    t = editors.texts

    def when(moment: datetime | None) -> str:
        if moment is None:
            return t["sources_never"]
        return moment.astimezone(app.settings.zone).strftime(t["datetime_format"])

    @guard
    async def sources(request: Request) -> Response:
        """GET /sources: the sources and their health, by id."""
        views = await run_in_threadpool(app.sources.registered)
        rows = [
            {
                "id": v.id, "url": v.url, "name": v.name or "", "section": v.section or "",
                "polled": when(v.last_polled),
                "status": t["sources_status_new"] if v.last_status is None
                else t[f"sources_status_{v.last_status}"] if v.last_status in POLL_STATUSES
                else v.last_status,
                "failing": v.error is not None, "failures": v.failures, "error": v.error or "",
                "next": when(v.next_poll), "every": f"{v.every_minutes:g}",
            }
            for v in views
        ]  # fmt: skip
        return page(request, editors, "sources", rows=rows)

    return [Route("/sources", sources, methods=["GET"])]
