"""``newsletter send``, ``status``, ``pause``, ``resume`` and ``worker``: they ask the
application to deliver, and print what the store and :mod:`newsletter.deliver.status`
say about the send."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.common import (
    DateOption,
    Progress,
    StopFlag,
    fail,
    load_app,
    parse_date,
    plural,
    progress_printer,
    warn,
)

if TYPE_CHECKING:
    from newsletter.deliver.worker import RunReport
    from newsletter.editions.release import SendResult
    from newsletter.store.models import Edition
    from newsletter.wiring import App


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
    from newsletter.config.settings import ConfigError
    from newsletter.errors import UsageError

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


def status(
    day: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print counts as JSON.")] = False,
) -> None:
    """Deliveries of an edition per state, with the send rate, the time left and the
    deliveries left uncertain by an interruption."""
    from newsletter.deliver.status import sending_status
    from newsletter.deliver.worker import is_dead
    from newsletter.store.progress import send_figures

    application = load_app()
    target = parse_date(day, application)
    edition = application.drafts.get(target)
    if edition is None:
        fail(f"no edition for {target.isoformat()}")
    figures = send_figures(application.sessions, edition.id)
    now = sending_status(edition.status, edition.paused_reason, figures, is_dead)
    if as_json:
        typer.echo(json.dumps(now.as_json(target.isoformat())))
        return
    typer.echo(f"edition {target.isoformat()} ({edition.status})")
    if edition.paused_reason:
        typer.echo(f"  {edition.paused_reason}\n  (fix the cause, then `newsletter resume`)")
    for state, count in now.counts.items():
        note = ""
        if state == "sending" and now.in_doubt:
            note = (
                f"  ({now.in_doubt} interrupted in flight: `send --resend-uncertain` resends them)"
            )
        typer.echo(f"  {state:<9} {count}{note}")
    if now.rate_per_second > 0:
        typer.echo(f"  rate      {now.rate_per_second:.1f} messages/s over the last minute")
    if now.eta_seconds is not None:
        typer.echo(f"  time left about {now.eta_seconds // 60} min {now.eta_seconds % 60} s")
    typer.echo(f"  workers   {now.workers} running")


def _set_paused(day: str | None, paused: bool) -> None:
    from newsletter.errors import UsageError

    application = load_app()
    target = parse_date(day, application)
    try:
        changed = application.drafts.pause(target, paused)
    except UsageError as exc:
        fail(str(exc))
    if not changed:
        fail(f"edition {target.isoformat()} " + ("was not sending" if paused else "was not paused"))
    typer.echo(f"edition {target.isoformat()} " + ("paused" if paused else "resumed"))


def pause(day: DateOption = None) -> None:
    """Pause an edition's send: workers finish the message in flight and claim no more."""
    _set_paused(day, True)


def resume(day: DateOption = None) -> None:
    """Resume a paused send (nothing is sent twice); run `send` or a worker to go on."""
    _set_paused(day, False)


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
