"""The scheduler process of ``newsletter run``: APScheduler 3 in a background thread, its
jobs in the database (``SQLAlchemyJobStore``, table ``scheduler_jobs``).

At every start the four jobs are (re-)created from the configuration under fixed ids with
``replace_existing``: a changed send time takes effect, and there is never a duplicate. A
stored job holds a function reference (:mod:`newsletter.scheduler.jobs`), the newsletter's
name and its trigger: no application object is pickled.

Each job states its ``misfire_grace_time`` (the send grace for the daily jobs; APScheduler's
default of one second would silently drop a run that starts a little late), ``coalesce``
(a long downtime gives one run, never a backlog) and ``max_instances=1``.

Two processes on one database both run the jobs (APScheduler 3 does not lock a job store);
that is harmless because every action of the day is claimed first (see
:mod:`newsletter.scheduler.day`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.scheduler import jobs
from newsletter.scheduler.day import Day
from newsletter.scheduler.timing import COMPOSE, SEND
from newsletter.timeutil import get_zone, tzdata_version
from newsletter.wiring import App

LOG = logging.getLogger("newsletter.scheduler")
JOB_TABLE = "scheduler_jobs"


def zone_source(name: str) -> str:
    """Where the zone ``name`` comes from: ``"tzdata package"`` or ``"system"``."""
    get_zone(name)  # raises for an unknown zone
    return "tzdata package" if _from_package(name) else "system"


def _from_package(name: str) -> bool:
    import importlib.resources

    try:
        return importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).is_file()
    except ModuleNotFoundError:  # pragma: no cover - tzdata is a dependency
        return False


class Runner:
    """The scheduler of one ``newsletter run`` process for ``app``."""

    def __init__(self, app: App, *, newsletter: str = "default") -> None:
        self.app = app
        self.newsletter = newsletter
        self.day = Day(app)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=app.engine, tablename=JOB_TABLE)},
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    @property
    def running(self) -> bool:
        """True while the scheduler thread runs (``/readyz``)."""
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Log the time-zone database in use, (re-)create the jobs, start the thread; the
        periodic check runs at once (a late start composes and sends today's edition once,
        if within the grace period, or reports the day skipped)."""
        s = self.app.settings
        LOG.info(
            "scheduler starting: tz database %s, %s from the %s", tzdata_version(), s.timezone,
            zone_source(s.timezone),
            extra={"event": "start", "tzdata": tzdata_version(), "timezone": s.timezone,
                   "zone_source": zone_source(s.timezone)},
        )  # fmt: skip
        jobs.install(self.day, self.newsletter)
        added = self.app.sources.register(s.sources)
        if s.sources:
            LOG.info(
                "%d configured sources, %d new", len(s.sources), added,
                extra={"event": "sources_registered", "sources": len(s.sources), "new": added},
            )  # fmt: skip
        timing = self.day.timing
        grace = int(timing.grace.total_seconds())
        common = {"coalesce": True, "max_instances": 1, "replace_existing": True,
                  "kwargs": {"newsletter": self.newsletter}}  # fmt: skip
        for job, func in ((COMPOSE, "newsletter.scheduler.jobs:compose"),
                          (SEND, "newsletter.scheduler.jobs:send")):  # fmt: skip
            self.scheduler.add_job(
                func, trigger=timing.trigger(job), id=f"{job}:{self.newsletter}",
                name=f"{job} {self.newsletter}", misfire_grace_time=grace, **common,
            )  # fmt: skip
        every = s.scheduler_check_seconds
        self.scheduler.add_job(
            "newsletter.scheduler.jobs:check", trigger=IntervalTrigger(seconds=every),
            id=f"check:{self.newsletter}", name=f"check {self.newsletter}",
            misfire_grace_time=max(int(every * 2), 30), next_run_time=datetime.now(UTC),
            **common,
        )  # fmt: skip
        # Each source has its own interval (its next poll is stored); the job looks for the
        # due ones as often as the periodic check.
        self.scheduler.add_job(
            "newsletter.scheduler.jobs:poll", trigger=IntervalTrigger(seconds=every),
            id=f"poll:{self.newsletter}", name=f"poll {self.newsletter}",
            misfire_grace_time=max(int(every * 2), 30), next_run_time=datetime.now(UTC),
            **common,
        )  # fmt: skip
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            LOG.info(
                "job %s next at %s", job.id, job.next_run_time,
                extra={"event": "job_planned", "job": job.id,
                       "next_run": job.next_run_time.isoformat() if job.next_run_time else None},
            )  # fmt: skip

    def stop(self) -> None:
        """Stop the scheduler: a send in progress stops claiming (the message in flight is
        finished and recorded), then the running jobs are waited for. Safe to repeat."""
        self.day.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        jobs.uninstall(self.newsletter)
        LOG.info("scheduler stopped", extra={"event": "stop"})

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            LOG.error(
                "job %s missed its run of %s (past its grace period)", event.job_id,
                event.scheduled_run_time, extra={"event": "job_missed", "job": event.job_id},
            )  # fmt: skip
        else:
            LOG.error(
                "job %s failed: %s", event.job_id, event.exception,
                extra={"event": "job_failed", "job": event.job_id, "exc": event.traceback},
            )  # fmt: skip


class StopWithServer:
    """ASGI wrapper calling ``on_shutdown`` (in a thread) when the server shuts down
    (lifespan ``shutdown``), before the wrapped app's own shutdown: uvicorn re-raises the
    SIGTERM it caught once it has stopped, so code after ``uvicorn.run`` may never run."""

    def __init__(self, app: ASGIApp, on_shutdown: Callable[[], None]) -> None:
        self.app, self.on_shutdown = app, on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything through; intercept the lifespan's shutdown message."""
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await run_in_threadpool(self.on_shutdown)
            return message

        await self.app(scope, watched, send)
