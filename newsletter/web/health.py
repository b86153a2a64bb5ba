"""Probes for orchestrators: ``/healthz`` (the process answers) and ``/readyz`` (the
database is reachable and migrated to this code's newest revision, and, under
``newsletter run``, the scheduler is running). Plain JSON; ``/readyz`` answers 503 with
the reasons when not ready."""

from __future__ import annotations

from typing import Protocol

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.store.db import alembic_config
from newsletter.wiring import App


class Running(Protocol):
    """Anything with a ``running`` flag (the scheduler runner)."""

    @property
    def running(self) -> bool:
        """True while it runs."""
        ...


def readiness(application: App, scheduler: Running | None) -> dict[str, object]:
    """``{"ready": bool, "database": "ok" | reason, "schema": revision, "scheduler":
    "running" | "stopped" | "absent"}`` (blocking: the database is queried)."""
    report: dict[str, object] = {"ready": True}
    try:
        head = ScriptDirectory.from_config(alembic_config(application.engine)).get_current_head()
        with application.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        report["database"] = "ok"
        report["schema"] = current
        if current != head:
            report["ready"] = False
            report["database"] = f"schema at {current}, expected {head}: run `newsletter init`"
    except Exception as exc:  # any driver error means "not reachable"
        report["ready"] = False
        report["database"] = f"unreachable: {type(exc).__name__}"
    if scheduler is None:
        report["scheduler"] = "absent"
    elif scheduler.running:
        report["scheduler"] = "running"
    else:
        report["scheduler"] = "stopped"
        report["ready"] = False
    return report


def health_routes(application: App, scheduler: Running | None = None) -> list[Route]:
    """The two probe routes; ``scheduler`` is given under ``newsletter run``."""

    async def healthz(request: Request) -> Response:
        """GET /healthz: 200 while the process serves requests."""
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    async def readyz(request: Request) -> Response:
        """GET /readyz: 200 when ready, 503 with the reasons otherwise."""
        report = await run_in_threadpool(readiness, application, scheduler)
        return JSONResponse(
            report, status_code=200 if report["ready"] else 503,
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
