"""``newsletter bounces import|serve``: bounce messages (DSN) and complaints (ARF) from
files, a Maildir or an mbox, or received on an SMTP address."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.common import fail, load_app, plural, warn

bounces_app = typer.Typer(
    help="Bounce messages (DSN, RFC 3464) and feedback-loop complaints (ARF, RFC 5965): "
    "import them from files, a Maildir or an mbox, or receive them on an SMTP address. "
    "Hard bounces and complaints suppress; soft bounces are counted.",
    no_args_is_help=True,
)


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
    import threading

    from newsletter.feedback.mailboxes import Applier, serve

    application = load_app()
    applier = Applier(application.sessions, application.settings.soft_bounce_limit)
    try:
        controller = serve(applier, host, port)
    except (OSError, RuntimeError) as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")
    typer.echo(f"receiving bounce reports on smtp://{host}:{port} (Ctrl-C stops)")
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
