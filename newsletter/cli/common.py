"""What every command shares: the application from the settings, ``error:``/``warning:``
lines, dates and times given on the command line, and a send's stop flag and progress.

Light on purpose: every start of the command line imports it (the application and its
libraries are imported when a command runs, not to print ``--help``).
"""

from __future__ import annotations

import re
import signal
import sys
import time
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from newsletter.deliver.worker import RunReport
    from newsletter.wiring import App

DateOption = Annotated[
    str | None,
    typer.Option("--date", help="Local date YYYY-MM-DD (default: today in NEWSLETTER_TIMEZONE)."),
]


def plural(count: int, one: str, many: str) -> str:
    """``1 delivery was`` / ``2 deliveries were``."""
    return f"{count} {one if count == 1 else many}"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    typer.echo(f"warning: {message}", err=True)


def load_app(*, ready: bool = True) -> App:
    """The application from the settings; exits 2 on a bad setting, 1 without a schema."""
    from newsletter.config.settings import ConfigError, load_settings, unknown_variables
    from newsletter.store.db import DatabaseError
    from newsletter.wiring import App

    try:
        application = App(load_settings())
        for name in unknown_variables():
            warn(f"{name} is not a setting and is ignored (a typo?)")
        if ready:
            application.ready()
    except ConfigError as exc:
        fail(str(exc), 2)
    except DatabaseError as exc:
        fail(str(exc))
    return application


def parse_date(value: str | None, application: App) -> date:
    """``--date`` as a date, default today in the newsletter's time zone."""
    if value is None:
        return application.today()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        fail(f"--date: expected YYYY-MM-DD, got {value!r}", 2)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        fail(f"--date: {value} is not a date of the calendar", 2)
    if not 1971 <= day.year <= 9998:
        fail(f"--date: {value} is out of range (1971 to 9998)", 2)
    return day


def parse_from(value: str | None, application: App, option: str = "--from") -> datetime:
    """``--from`` (or the ``option`` named) as an aware datetime: ISO 8601; without an offset
    it is local time in ``NEWSLETTER_TIMEZONE``; default now. Exits 2 on a bad value."""
    from newsletter.timeutil import utcnow

    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option}: expected an ISO date-time such as 2026-03-29T00:00, got {value!r}", 2)
    if not 1971 <= moment.year <= 9998:
        fail(f"{option}: {value} is out of range (1971 to 9998)", 2)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=application.settings.zone)
    return moment


class StopFlag:
    """Set by SIGINT/SIGTERM during a send: the message in flight finishes, its answer is
    recorded, the rest of the claim is given back. A second signal interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def install(self) -> None:
        """Handle SIGINT and SIGTERM in this process."""

        def handler(signum: int, _frame: object) -> None:
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
            typer.echo(
                f"\n{signal.Signals(signum).name}: finishing the message in flight, then stopping"
                " (again to stop at once)",
                err=True,
            )

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


class Progress:
    """Progress of a send: a rich progress bar with rate and time left on a terminal, a
    plain line every ``every`` messages otherwise (logs, cron, CI)."""

    def __init__(self, every: int = 500) -> None:
        self.every = every
        self.next = every
        self.bar: Any = None  # a rich Progress on a terminal
        self.task: Any = None
        self.started: float | None = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.1f}/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> Progress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def __call__(self, report: RunReport) -> None:
        from newsletter.deliver.status import send_progress

        if self.started is None:
            self.started = time.monotonic()
        progress = send_progress(
            report.sent, report.failed, report.deferred, report.unknown, report.total,
            time.monotonic() - self.started,
        )  # fmt: skip
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("send", total=None, rate=0.0)
            self.bar.update(
                self.task, completed=progress.done, total=progress.total,
                rate=progress.rate_per_second,
            )  # fmt: skip
        elif progress.done >= self.next:
            typer.echo(f"  ... {progress.done} handed over ({report.sent} sent)", err=True)
            self.next = progress.done + self.every


def progress_printer(every: int = 500) -> Progress:
    """A progress callback (see :class:`Progress`)."""
    return Progress(every)
