"""The ``newsletter`` command line (typer). Command names, options and JSON shapes are a
contract with users and scripts (see README "Command line").

Exit status: 0 success, 1 the work failed (every source broken, nothing to send, a provider
stopped the send), 2 bad usage or settings.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from newsletter import words
from newsletter.audience.records import InvalidSubscriber, import_csv, make_record
from newsletter.config.settings import ConfigError, load_settings, unknown_variables
from newsletter.deliver.worker import RunReport, is_dead
from newsletter.editions.document import edition_json
from newsletter.editions.release import SendResult
from newsletter.errors import UsageError
from newsletter.ingest.run import SourceReport
from newsletter.ingest.sample import SAMPLE_SOURCE, sample_dir
from newsletter.store.articles import count_articles_not_from
from newsletter.store.db import DatabaseError, transaction
from newsletter.store.editions import EditionLocked
from newsletter.store.models import Article, DeliveryStatus, Edition, SubscriberStatus
from newsletter.store.outbox import delivery_counts, send_rate, worker_owners
from newsletter.store.subscribers import (
    add_subscriber,
    count_by_status,
    count_subscribers_not_from,
    iter_subscribers,
    set_status,
)
from newsletter.store.workers import live_workers
from newsletter.timeutil import utcnow
from newsletter.wiring import App

app = typer.Typer(
    name="newsletter",
    help="A self-hosted daily five-minute email briefing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
subscribers_app = typer.Typer(help="Add, import and list subscribers.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
edition_app = typer.Typer(
    help="An editor's decisions on a draft: pin, exclude, move items, set subject/preheader. "
    "Each recomposes the draft and keeps every earlier decision.",
    no_args_is_help=True,
)
app.add_typer(edition_app, name="edition")

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


@app.command()
def init() -> None:
    """Create or migrate the database (safe to repeat)."""
    application = load_app(ready=False)
    try:
        revision = application.init_db()
    except DatabaseError as exc:
        fail(str(exc))
    typer.echo(
        f"database ready at revision {revision}: {application.engine.url.render_as_string()}"
    )


def print_source_report(report: SourceReport) -> None:
    """One line per source (and its rejected entries and warnings, indented)."""
    label = report.source + (f" ({report.name})" if report.name else "")
    if report.failed:
        typer.echo(f"{label}: FAILED: {report.failed}")
        return
    typer.echo(
        f"{label}: {report.new} new, {report.updated} updated, {report.skipped} skipped, "
        f"{len(report.errors)} errors"
    )
    for line in report.errors:
        typer.echo(f"  error: {line}")
    for line in report.warnings:
        typer.echo(f"  warning: {line}")


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="Feed URLs or files (RSS or Atom).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Ingest feeds; a broken source is reported and the others still load.

    Exits 1 only if every source failed.
    """
    application = load_app()
    reports = application.ingest.sources(sources)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            print_source_report(report)
    if reports and all(report.failed for report in reports):
        raise typer.Exit(1)


@subscribers_app.command("add")
def subscribers_add(
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    topics: Annotated[
        str | None, typer.Option("--topics", help="Comma-separated categories, e.g. sport,culture.")
    ] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="IANA time zone.")] = None,
) -> None:
    """Add an active subscriber (or update the one with this address)."""
    application = load_app()
    try:
        record = make_record(email, name, topics, timezone)
    except InvalidSubscriber as exc:
        fail(str(exc), 2)
    with transaction(application.sessions) as session:
        result = add_subscriber(session, record, source="cli")
        status = result.subscriber.status
    verb = "added" if result.created else "updated"
    typer.echo(f"{verb} {record.email} ({status})")
    settings = application.settings
    known = set(settings.sections) | set(words.section_titles(settings.language))
    for topic in record.topics:
        if topic not in known:
            warn(f"no configured section is called {topic!r}: it matches only a feed category")
    if result.kept_status:
        warn(f"{record.email} stays {result.kept_status}: only the reader can opt in again")


@subscribers_app.command("unsubscribe")
def subscribers_unsubscribe(
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
) -> None:
    """Unsubscribe an address (a reader's request by other means than the link)."""
    application = load_app()
    with transaction(application.sessions) as session:
        subscriber = set_status(session, email, SubscriberStatus.UNSUBSCRIBED)
    if subscriber is None:
        fail(f"no subscriber {email.strip()}")
    typer.echo(f"unsubscribed {subscriber.email}")


@subscribers_app.command("import")
def subscribers_import(
    file: Annotated[Path, typer.Argument(help="CSV with header email[,name,topics,timezone].")],
) -> None:
    """Import subscribers from a CSV; invalid rows are reported with their line number.

    New addresses are added with the file's values; an existing subscriber keeps its
    topics, time zone, frequency, format, pause and status (readers manage them), and only
    gets a name if it had none. UTF-8, UTF-16 with a BOM, else read as Windows-1252 with a
    warning. A file that cannot be used at all exits 2 and imports nothing.
    """
    application = load_app()
    try:
        report = import_csv(application.sessions, file)
    except InvalidSubscriber as exc:
        fail(str(exc), 2)
    for message in report.warnings:
        warn(message)
    for line in report.rejected:
        typer.echo(f"  rejected: {line}", err=True)
    typer.echo(
        f"{report.added} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected"
        + (f", {report.duplicates} repeated rows merged" if report.duplicates else "")
        + (f", {report.kept_inactive} kept unsubscribed/bounced" if report.kept_inactive else "")
    )


@subscribers_app.command("list")
def subscribers_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List subscribers (streamed: flat memory on large lists)."""
    application = load_app()
    with application.sessions() as session:
        rows = (
            {
                "id": s.id,
                "email": s.email,
                "name": s.name,
                "status": s.status,
                "topics": s.topics,
                "timezone": s.timezone,
                "created_at": s.created_at.isoformat(),
            }
            for s in iter_subscribers(session)
        )
        if as_json:
            out = sys.stdout
            out.write("[")
            for index, row in enumerate(rows):
                out.write(("," if index else "") + "\n  " + json.dumps(row, ensure_ascii=False))
            out.write("\n]\n")
            return
        for row in rows:
            topics = ",".join(row["topics"]) or "-"  # type: ignore[arg-type]
            name = row["name"] or "-"
            typer.echo(f"{row['id']:>6}  {row['status']:<12} {row['email']:<40} {name}  [{topics}]")
        counts = count_by_status(session)
    typer.echo(
        ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        or "no subscribers"
    )


def print_edition(edition: Edition) -> None:
    """The edition's summary and items, one line each, and its personal variants."""
    typer.echo(
        f"edition {edition.date.isoformat()} ({edition.status}): {len(edition.items)} items, "
        f"{edition.reading_seconds} s of {edition.budget_seconds} s reading"
    )
    typer.echo(f"subject: {edition.subject}")
    typer.echo(f"preheader: {edition.preheader}")
    for index, item in enumerate(edition.items):
        pin = " [pinned]" if item.pinned else ""
        typer.echo(
            f"  {index + 1:>2}. #{item.article_id} [{item.section}] {item.title} "
            f"({item.reading_seconds:.0f} s, score {item.score}){pin}"
        )
        if item.also:
            typer.echo(f"      also: {', '.join(a['source'] for a in item.also)}")
    for variant in edition.variants:
        seconds = round(edition.variant_seconds.get(variant, 0))
        count = len(edition.variant_items(variant))
        typer.echo(f"  variant for topics {variant}: {count} items, {seconds} s")


@app.command()
def compose(
    day: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the edition as JSON.")] = False,
) -> None:
    """Compose the draft edition of a date (recomposing replaces a draft; a sent edition
    never changes)."""
    application = load_app()
    target = parse_date(day, application)
    result = application.composer.compose(target)
    if result.locked:
        warn(f"the edition of {target.isoformat()} is {result.edition.status}; it is never changed")
    elif not result.edition.items:
        send_time = application.settings.send_time
        warn(
            f"no article published in the 24 hours before {target.isoformat()} "
            f"{send_time:%H:%M}: the edition is empty"
        )
    if as_json:
        typer.echo(json.dumps(edition_json(result.edition), ensure_ascii=False, indent=2))
        return
    print_edition(result.edition)


def _decide(day: str | None, *, must_appear: int | None = None, **changes: object) -> None:
    """Record the decision and print the recomposed draft. With ``must_appear``, an article
    that is not a candidate of the edition is refused and the decision undone."""
    application = load_app()
    target = parse_date(day, application)
    try:
        before = application.drafts.get(target)
        result = application.drafts.decide(target, **changes)
        if must_appear is not None and must_appear not in {
            i.article_id for i in result.edition.items
        }:
            undo = {key: getattr(before, key) for key in changes if key in ("pins", "positions")}
            if before is not None and undo:
                application.drafts.decide(target, **undo)
            fail(
                f"article #{must_appear} is not a candidate of {target.isoformat()} (published "
                "outside its window or already in another edition)"
            )
    except EditionLocked as exc:
        fail(str(exc))
    except UsageError as exc:  # e.g. a subject on two lines
        fail(str(exc), 2)
    print_edition(result.edition)


def _current(day: str | None, article_id: int | None = None) -> tuple[App, Edition]:
    application = load_app()
    target = parse_date(day, application)
    if article_id is not None:
        with application.sessions() as session:
            if session.get(Article, article_id) is None:
                fail(f"no article #{article_id} (see the ids in `newsletter compose`)")
    edition = application.drafts.get(target) or application.composer.compose(target).edition
    return application, edition


@edition_app.command("pin")
def edition_pin(
    article_id: Annotated[int, typer.Argument(help="The article's id (see compose).")],
    day: DateOption = None,
) -> None:
    """Put an article in the edition whatever its score (the first pin leads)."""
    _, edition = _current(day, article_id)
    pins = [p for p in edition.pins if p != article_id] + [article_id]
    excludes = [e for e in edition.excludes if e != article_id]
    _decide(day, must_appear=article_id, pins=pins, excludes=excludes)


@edition_app.command("unpin")
def edition_unpin(article_id: Annotated[int, typer.Argument()], day: DateOption = None) -> None:
    """Let the ranking decide again about an article."""
    _, edition = _current(day)
    if article_id not in edition.pins:
        fail(f"article #{article_id} is not pinned in the edition of {edition.date.isoformat()}")
    positions = {k: v for k, v in (edition.positions or {}).items() if k != str(article_id)}
    _decide(day, pins=[p for p in edition.pins if p != article_id], positions=positions)


@edition_app.command("exclude")
def edition_exclude(article_id: Annotated[int, typer.Argument()], day: DateOption = None) -> None:
    """Keep an article out of the edition."""
    _, edition = _current(day)
    excludes = [e for e in edition.excludes if e != article_id] + [article_id]
    _decide(day, excludes=excludes, pins=[p for p in edition.pins if p != article_id])


@edition_app.command("include")
def edition_include(article_id: Annotated[int, typer.Argument()], day: DateOption = None) -> None:
    """Undo an exclusion."""
    _, edition = _current(day)
    if article_id not in edition.excludes:
        fail(
            f"article #{article_id} is not excluded from the edition of {edition.date.isoformat()}"
        )
    _decide(day, excludes=[e for e in edition.excludes if e != article_id])


@edition_app.command("move")
def edition_move(
    article_id: Annotated[int, typer.Argument()],
    position: Annotated[int, typer.Argument(help="1-based position; 1 is the lead.", min=1)],
    day: DateOption = None,
) -> None:
    """Place an article at a position (it stays in the edition: it is pinned too)."""
    _, edition = _current(day, article_id)
    if position > len(edition.items) + (article_id not in {i.article_id for i in edition.items}):
        fail(f"position must be between 1 and {len(edition.items)} (the edition's items)", 2)
    positions = dict(edition.positions or {})
    positions[str(article_id)] = position
    pins = edition.pins if article_id in edition.pins else [*edition.pins, article_id]
    _decide(day, must_appear=article_id, positions=positions, pins=pins)


@edition_app.command("set")
def edition_set(
    day: DateOption = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Subject line ('' restores the generated one).")
    ] = None,
    preheader: Annotated[
        str | None, typer.Option("--preheader", help="Preheader ('' restores the generated one).")
    ] = None,
) -> None:
    """Set the subject and/or preheader of the draft."""
    if subject is None and preheader is None:
        fail("give --subject and/or --preheader", 2)
    _decide(day, subject=subject, preheader=preheader)


@edition_app.command("approve")
def edition_approve(
    day: DateOption = None,
    by: Annotated[
        str, typer.Option("--by", help="Who approves (recorded with the approval).")
    ] = "cli",
) -> None:
    """Approve the draft (and lift a hold): with require_approval, the scheduler sends only
    an approved edition."""
    application = load_app()
    target = parse_date(day, application)
    try:
        changed = application.drafts.approve(target, by=by)
    except UsageError as exc:
        fail(str(exc))
    typer.echo(f"approved {target.isoformat()}" if changed else "already approved")


@edition_app.command("hold")
def edition_hold(
    day: DateOption = None,
    release: Annotated[bool, typer.Option("--release", help="Lift the hold instead.")] = False,
) -> None:
    """Hold the draft: the scheduler does not send it until the hold is lifted."""
    application = load_app()
    target = parse_date(day, application)
    try:
        changed = application.drafts.hold(target, held=not release)
    except UsageError as exc:
        fail(str(exc))
    state = "hold lifted" if release else "held"
    typer.echo(f"{state}: {target.isoformat()}" if changed else f"already {state.split()[0]}")


def write_preview(
    application: App, day: date, out: Path | None = None
) -> tuple[Path, Path, list[str]]:
    """Write the edition of ``day`` to ``<out>/<date>/edition.html|.txt`` (default folder
    ``<data_dir>/preview``). Raises :class:`UsageError` when there is no edition."""
    edition = application.drafts.get(day)
    if edition is None:
        raise UsageError(
            f"no edition for {day.isoformat()}: "
            f"run `newsletter compose --date {day.isoformat()}` first"
        )
    return application.renderer.preview(edition, out or application.settings.data_dir / "preview")


def foreign_data(application: App) -> str | None:
    """What, besides the sample data, the database holds (None if nothing)."""
    with application.sessions() as session:
        articles = count_articles_not_from(session, SAMPLE_SOURCE)
        subscribers = count_subscribers_not_from(session, "demo")
    if articles or subscribers:
        return f"it holds {articles} other articles and {subscribers} other subscribers"
    return None


@app.command()
def preview(
    day: DateOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder (default var/preview).")] = None,
) -> None:
    """Write the edition's final HTML and text as the editor will see them."""
    application = load_app()
    target = parse_date(day, application)
    try:
        html_path, text_path, warnings = write_preview(application, target, out)
    except UsageError as exc:
        fail(str(exc))
    for message in warnings:
        warn(message)
    typer.echo(str(html_path))
    typer.echo(str(text_path))


def print_send_result(result: SendResult, application: App) -> None:
    """Counts of this run and the edition's totals."""
    run = result.run
    edition = result.edition
    if result.released:
        typer.echo(f"released edition {edition.date.isoformat()}: {result.created} recipients")
    if result.handed_to_workers:
        workers = plural(result.handed_to_workers, "worker is", "workers are")
        typer.echo(f"{workers} running: they deliver it (`newsletter status` follows them)")
        return
    typer.echo(
        f"sent {run.sent}, failed {run.failed}, skipped {run.skipped}, deferred {run.deferred}"
    )
    for line in run.failures[:20]:
        typer.echo(f"  failed: {line}", err=True)
    totals = run.totals
    typer.echo(
        f"edition {edition.date.isoformat()} is {edition.status}: "
        + ", ".join(f"{count} {status}" for status, count in totals.items() if count)
    )
    if run.reclaimed:
        typer.echo(f"gave back {run.reclaimed} deliveries claimed by a stopped worker")
    if run.requeued:
        typer.echo(f"resent {run.requeued} deliveries interrupted in flight (--resend-uncertain)")
    if run.uncertain:
        warn(
            f"{plural(run.uncertain, 'delivery was', 'deliveries were')} in flight when a send "
            "was interrupted: they may or "
            "may not have reached the provider, so they are not resent automatically; "
            "`newsletter send --resend-uncertain` resends them"
        )
    if run.in_flight_elsewhere:
        count = plural(run.in_flight_elsewhere, "delivery is", "deliveries are")
        typer.echo(f"{count} in flight in another running worker")
    if run.next_retry:
        local = run.next_retry.astimezone(application.settings.zone)
        typer.echo(f"deferred deliveries retry from {local:%Y-%m-%d %H:%M} (run send again then)")
    if application.settings.provider == "file" and run.sent:
        folder = application.settings.effective_outbox_dir / edition.date.isoformat()
        typer.echo(f"messages written to {folder}")


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
        self.bar: RichProgress | None = None
        self.task: TaskID | None = None
        if sys.stderr.isatty():
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
        done = report.sent + report.failed + report.deferred + report.unknown
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(
                    "send", total=None, rate=0.0, started=time.monotonic()
                )
            started = self.bar.tasks[0].fields["started"]
            rate = done / max(time.monotonic() - started, 1e-6)
            self.bar.update(self.task, completed=done, total=report.total or None, rate=rate)
        elif done >= self.next:
            typer.echo(f"  ... {done} handed over ({report.sent} sent)", err=True)
            self.next = done + self.every


def progress_printer(every: int = 500) -> Progress:
    """A progress callback (see :class:`Progress`)."""
    return Progress(every)


@app.command()
def send(
    day: DateOption = None,
    early: Annotated[
        bool, typer.Option("--early", help="Send before the edition's window has closed.")
    ] = False,
    resend_uncertain: Annotated[
        bool,
        typer.Option(
            "--resend-uncertain",
            help="Also resend deliveries that an interrupted send left in flight "
            "(their recipients may get the edition twice).",
        ),
    ] = False,
) -> None:
    """Compose if needed, then deliver the edition to every active subscriber who has not
    received it. Running it again sends nothing new."""
    application = load_app()
    target = parse_date(day, application)
    if not application.settings.base_url.startswith("https://"):
        warn(
            f"NEWSLETTER_BASE_URL is {application.settings.base_url}: unsubscribe and "
            "preference links need a public HTTPS address (Gmail and Yahoo require a working "
            "one-click unsubscribe from bulk senders)"
        )
    stop = StopFlag()
    stop.install()
    try:
        with Progress() as progress:
            result = application.release.send(
                target,
                early=early,
                resend_uncertain=resend_uncertain,
                should_stop=stop,
                on_progress=progress,
            )
    except UsageError as exc:
        fail(str(exc))
    except ConfigError as exc:
        fail(str(exc), 2)
    print_send_result(result, application)
    if result.run.stopped == "interrupted":
        fail("interrupted: run send again to go on (nothing is sent twice)", 130)
    if result.run.stopped:
        fail(f"the send stopped: {result.run.stopped} (run send again once it is fixed)")


@app.command()
def status(
    day: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print counts as JSON.")] = False,
) -> None:
    """Deliveries of an edition per state, with the send rate, the time left and the
    deliveries left uncertain by an interruption."""
    application = load_app()
    target = parse_date(day, application)
    edition = application.drafts.get(target)
    if edition is None:
        fail(f"no edition for {target.isoformat()}")
    with application.sessions() as session:
        counts = delivery_counts(session, edition.id)
        rate = send_rate(session, edition.id)
        owners = worker_owners(session, edition.id, DeliveryStatus.SENDING)
        workers = live_workers(session)
    uncertain = sum(count for owner, count in owners.items() if is_dead(owner))
    left = counts["pending"] + counts["claimed"] + counts["deferred"]
    if edition.status != "sending":  # paused, finished or not released: no rate to speak of
        rate = 0.0
    eta = round(left / rate) if rate > 0 and left else None
    document = {
        "date": target.isoformat(),
        "edition_status": edition.status,
        **counts,
        "uncertain": uncertain,
        "rate_per_second": round(rate, 2),
        "eta_seconds": eta,
        "workers": workers,
        "paused_reason": edition.paused_reason,  # why a provider's failures paused it
    }
    if as_json:
        typer.echo(json.dumps(document))
        return
    typer.echo(f"edition {target.isoformat()} ({edition.status})")
    if edition.paused_reason:
        typer.echo(f"  {edition.paused_reason}\n  (fix the cause, then `newsletter resume`)")
    for state, count in counts.items():
        note = ""
        if state == "sending" and uncertain:
            note = f"  ({uncertain} interrupted in flight: `send --resend-uncertain` resends them)"
        typer.echo(f"  {state:<9} {count}{note}")
    if rate > 0:
        typer.echo(f"  rate      {rate:.1f} messages/s over the last minute")
    if eta is not None:
        typer.echo(f"  time left about {eta // 60} min {eta % 60} s")
    typer.echo(f"  workers   {workers} running")


def _set_paused(day: str | None, paused: bool) -> None:
    application = load_app()
    target = parse_date(day, application)
    try:
        changed = application.drafts.pause(target, paused)
    except UsageError as exc:
        fail(str(exc))
    if not changed:
        fail(f"edition {target.isoformat()} " + ("was not sending" if paused else "was not paused"))
    typer.echo(f"edition {target.isoformat()} " + ("paused" if paused else "resumed"))


@app.command()
def pause(day: DateOption = None) -> None:
    """Pause an edition's send: workers finish the message in flight and claim no more."""
    _set_paused(day, True)


@app.command()
def resume(day: DateOption = None) -> None:
    """Resume a paused send (nothing is sent twice); run `send` or a worker to go on."""
    _set_paused(day, False)


HostOption = Annotated[str, typer.Option("--host", help="Address to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)]
BehindProxyOption = Annotated[
    bool,
    typer.Option(
        "--behind-proxy",
        help="Trust X-Forwarded-For from 127.0.0.1 (a reverse proxy on this machine).",
    ),
]


# --- web server start-up failures (fixes-cli) -----------------------------------------------
#: uvicorn's exit status when the server cannot start (uvicorn.server.STARTUP_FAILURE).
UVICORN_STARTUP_FAILURE = 3


@contextmanager
def listening(host: str, port: int) -> Iterator[None]:
    """Around ``uvicorn.run``: a server that cannot start (port in use, host that does not
    resolve; uvicorn logs the reason and exits 3) exits 1 as the README's exit statuses
    say, with ``error: cannot listen on host:port``."""
    try:
        yield
    except SystemExit as exc:
        if exc.code == UVICORN_STARTUP_FAILURE:
            fail(
                f"cannot listen on {host}:{port} (the reason is logged above, e.g. a port in use "
                "or a host name that does not resolve); choose another with --host/--port"
            )
        raise


# ---


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    behind_proxy: BehindProxyOption = False,
) -> None:
    """Serve the readers' pages (sign-up, unsubscribe, preferences, archive) and the
    editors' pages (/editor) with uvicorn."""
    import uvicorn

    from newsletter.web.app import create_app

    application = load_app()
    with listening(host, port):
        uvicorn.run(
            create_app(application), host=host, port=port, log_level="info",
            proxy_headers=behind_proxy, forwarded_allow_ips="127.0.0.1" if behind_proxy else "",
        )  # fmt: skip


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when there is nothing left to send.")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between looks for work.")] = 5.0,
) -> None:
    """A delivery worker: sends every released edition, then waits for the next. Several
    workers (processes or machines on one PostgreSQL) share the work without overlap."""
    application = load_app()
    stop = StopFlag()
    stop.install()

    def on_run(edition: Edition, run: RunReport) -> None:
        if run.sent or run.failed or run.deferred or run.stopped:
            typer.echo(
                f"edition {edition.date.isoformat()}: sent {run.sent}, failed {run.failed}, "
                f"deferred {run.deferred}" + (f" (stopped: {run.stopped})" if run.stopped else "")
            )

    accepted = application.delivery.work(
        should_stop=stop,
        once=once,
        poll_seconds=poll,
        on_progress=progress_printer(),
        on_run=on_run,
    )
    typer.echo(f"worker stopped after {accepted} messages")


@app.command()
def demo() -> None:
    """Run the whole day on the sample data: init, ingest, subscribers, compose, send.

    It works in its own SQLite database under <data_dir>/demo/ so that it can never mail
    the sample edition to a real list. With NEWSLETTER_DATABASE_URL set it uses that
    database, but only if it holds nothing but sample data.
    """
    base = load_app(ready=False).settings
    if base.database_url is None:
        changes: dict[str, object] = {"data_dir": base.data_dir / "demo"}
        if base.outbox_dir is None:
            changes["outbox_dir"] = base.data_dir / "demo" / "outbox"
        application = App(base.model_copy(update=changes))
    else:
        application = App(base)
    settings = application.settings
    try:
        revision = application.init_db()
    except DatabaseError as exc:
        fail(str(exc))
    foreign = foreign_data(application)
    if foreign:
        fail(
            f"the demo only runs on an empty or demo database, and {foreign}; "
            "unset NEWSLETTER_DATABASE_URL to run it in its own database"
        )
    typer.echo(f"1. database ready ({revision}): {application.engine.url.render_as_string()}")
    day = application.today()
    report = application.ingest.sample(day)
    typer.echo(
        f"2. sample articles: {report.new} new, {report.updated} updated, "
        f"{report.skipped} unchanged"
    )
    imported = import_csv(application.sessions, sample_dir() / "subscribers.csv", source="demo")
    typer.echo(
        f"3. sample subscribers: {imported.added} added, "
        f"{imported.updated + imported.unchanged} already there"
    )
    result = application.composer.compose(day)
    edition = result.edition
    state = "already released, unchanged" if result.locked else "draft"
    typer.echo(
        f"4. edition {day.isoformat()} ({state}): {len(edition.items)} items, "
        f"{edition.reading_seconds} s of reading for a {edition.budget_seconds} s budget"
    )
    typer.echo(f"   subject: {edition.subject}")
    html_path, _text_path, _ = write_preview(application, day)
    typer.echo(f"   preview: {html_path}")
    try:
        sent = application.release.send(day, early=True)
    except (UsageError, ConfigError) as exc:
        fail(str(exc))
    typer.echo("5. send:")
    print_send_result(sent, application)
    if settings.provider == "file":
        folder = settings.effective_outbox_dir / day.isoformat()
        files = sorted(folder.glob("*.eml"))
        typer.echo(f"\n{len(files)} messages in {folder}:")
        for path in files:
            typer.echo(f"  {path}")
    if sent.run.stopped:
        fail(f"the send stopped: {sent.run.stopped}")


# --- bounces: DSN messages from a mailbox or an inbound SMTP address (issue 6) -------------
bounces_app = typer.Typer(
    help="Bounce messages (DSN, RFC 3464) and feedback-loop complaints (ARF, RFC 5965): "
    "import them from files, a Maildir or an mbox, or receive them on an SMTP address. "
    "Hard bounces and complaints suppress; soft bounces are counted.",
    no_args_is_help=True,
)
app.add_typer(bounces_app, name="bounces")


@bounces_app.command("import")
def bounces_import(
    paths: Annotated[
        list[Path], typer.Argument(help="Message files, Maildir folders, mbox files.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Apply the bounce reports found in PATHS (safe to repeat: a report counts once)."""
    from newsletter.feedback.mailboxes import Applier, import_paths, path_problems

    problems = path_problems(paths)  # every path checked before anything is applied
    for problem in problems[:-1]:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        fail(problems[-1], 2)
    application = load_app()
    report = import_paths(
        paths, Applier(application.sessions, application.settings.soft_bounce_limit)
    )
    if as_json:
        typer.echo(json.dumps(report.__dict__, ensure_ascii=False))
        return
    typer.echo(
        f"{plural(report.messages, 'message', 'messages')} read: "
        f"{report.reports} bounce reports, {report.ignored} other messages ignored, "
        f"{report.malformed} unreadable; {plural(report.applied, 'event', 'events')} applied, "
        f"{report.duplicates} already known"
    )
    for problem in report.problems:
        warn(problem)


@bounces_app.command("serve")
def bounces_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 2525,
) -> None:
    """Receive bounce reports by SMTP (point your MTA's bounce address here) until Ctrl-C."""
    from newsletter.feedback.mailboxes import Applier, serve

    application = load_app()
    applier = Applier(application.sessions, application.settings.soft_bounce_limit)
    try:
        controller = serve(applier, host, port)
    except (OSError, RuntimeError) as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
    typer.echo(f"receiving bounce reports on smtp://{host}:{port} (Ctrl-C stops)")
    import threading

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _number, _frame: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()
    report = controller.handler.report
    typer.echo(
        f"{plural(report.messages, 'message', 'messages')} received, "
        f"{plural(report.applied, 'event', 'events')} applied"
    )


# --- the scheduler (issue 7): newsletter run, newsletter schedule ----------------------------
def parse_from(value: str | None, application: App) -> datetime:
    """``--from`` as an aware datetime: ISO 8601; without an offset it is local time in
    ``NEWSLETTER_TIMEZONE``; default now."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"--from: expected an ISO date-time such as 2026-03-29T00:00, got {value!r}", 2)
    if not 1971 <= moment.year <= 9998:
        fail(f"--from: {value} is out of range (1971 to 9998)", 2)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=application.settings.zone)
    return moment


@app.command()
def schedule(
    as_json: Annotated[
        bool, typer.Option("--json", help='Print [{"job", "local", "utc"}] as JSON.')
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="ISO date-time to start from (local time without an offset; default now).",
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Local days to cover.", min=1, max=366)] = 7,
) -> None:
    """The planned compose and send runs, computed by the scheduler's own code."""
    from newsletter.scheduler.timing import planned_runs

    application = load_app(ready=False)
    runs = planned_runs(application.settings, parse_from(start, application), days)
    if as_json:
        typer.echo(json.dumps(runs, indent=2))
        return
    for run in runs:
        typer.echo(f"{run['job']:<8} {run['local']}  ({run['utc']})")


@app.command()
def run(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    behind_proxy: BehindProxyOption = False,
) -> None:
    """The scheduler (compose, notify the editors, send each day) and the web app in one
    process, with JSON logs on stderr. Add `newsletter worker` processes to deliver."""
    import uvicorn

    from newsletter.scheduler.logs import configure
    from newsletter.scheduler.runner import Runner, StopWithServer
    from newsletter.web.app import create_app

    application = load_app()
    configure()
    runner = Runner(application)
    runner.start()
    try:
        with listening(host, port):
            uvicorn.run(
                StopWithServer(create_app(application, scheduler=runner), runner.stop),
                host=host, port=port, log_config=None, proxy_headers=behind_proxy,
                forwarded_allow_ips="127.0.0.1" if behind_proxy else "",
            )  # fmt: skip
    finally:
        runner.stop()  # when the server failed to start (a port in use)


# --- editors (issue 8) -------------------------------------------------------------------
editor_cli = typer.Typer(help="Editors' accounts for the /editor pages.", no_args_is_help=True)
app.add_typer(editor_cli, name="editor")


@editor_cli.command("hash-password")
def editor_hash_password() -> None:
    """Print the Argon2id hash of a password for NEWSLETTER_EDITORS (or [editors] in the
    TOML file). The password is asked twice on a terminal, else read from the first line
    of standard input; it is never printed."""
    from newsletter.web.passwords import WeakPassword, hash_password

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        hashed = hash_password(password)
    except WeakPassword as exc:
        fail(str(exc), 2)
    typer.echo(hashed)
    typer.echo(
        'add it to the settings, e.g. NEWSLETTER_EDITORS=\'{"you@example.ma": "<hash>"}\'',
        err=True,
    )


def main() -> None:
    """Console entry point: expected failures print ``error: ...`` without a traceback
    (``NEWSLETTER_DEBUG=1`` shows it)."""
    debug = bool(os.environ.get("NEWSLETTER_DEBUG"))
    try:
        app()
    except EditionLocked as exc:
        _exit(str(exc), 1)
    except ConfigError as exc:
        _exit(str(exc), 2)
    except DatabaseError as exc:
        _exit(str(exc), 1)
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _exit(f"{where}{exc.strerror or exc}", 1)
    except Exception as exc:
        if debug:
            raise
        _exit(f"unexpected {type(exc).__name__}: {exc} (NEWSLETTER_DEBUG=1 shows the traceback)", 1)


def _exit(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
