"""The ``newsletter`` command line (typer). Command names, options and JSON shapes are a
contract with users and scripts (see README "Command line").

Exit status: 0 success, 1 the work failed (every source broken, nothing to send, a provider
stopped the send), 2 bad usage or settings.

Each command lives in a small module of this package; the application and the heavy
libraries (feed parsing, language detection, migrations, the web server, the scheduler,
the HTTP providers) are imported when a command that needs them runs, so that ``--help``
and the quick commands start fast.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer

from newsletter.cli import database, demo, editions, ingest, report, sending, serving
from newsletter.cli.articles import articles_app
from newsletter.cli.bounces import bounces_app
from newsletter.cli.editions import edition_app
from newsletter.cli.editors import editor_cli
from newsletter.cli.sources import sources_app
from newsletter.cli.subscribers import subscribers_app
from newsletter.cli.tokens import tokens_app

app = typer.Typer(
    name="newsletter",
    help="A self-hosted daily five-minute email briefing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Commands in the order ``newsletter --help`` lists them, then the groups.
for command in (
    database.init,
    ingest.ingest,
    editions.compose,
    editions.preview,
    sending.send,
    sending.status,
    sending.pause,
    sending.resume,
    report.report,
    serving.serve,
    sending.worker,
    demo.demo,
    serving.schedule,
    serving.run,
):
    app.command()(command)
app.add_typer(articles_app, name="articles")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(sources_app, name="sources")
app.add_typer(edition_app, name="edition")
app.add_typer(bounces_app, name="bounces")
app.add_typer(editor_cli, name="editor")
app.add_typer(tokens_app, name="api-token")


def main() -> None:
    """Console entry point: expected failures print ``error: ...`` without a traceback
    (``NEWSLETTER_DEBUG=1`` shows it)."""
    debug = bool(os.environ.get("NEWSLETTER_DEBUG"))
    try:
        app()
    except Exception as exc:
        code = _expected(exc)
        if code is not None:
            _exit(str(exc), code)
        if debug:
            raise
        if isinstance(exc, OSError):
            where = f"{exc.filename}: " if exc.filename else ""
            _exit(f"{where}{exc.strerror or exc}", 1)
        _exit(f"unexpected {type(exc).__name__}: {exc} (NEWSLETTER_DEBUG=1 shows the traceback)", 1)


def _expected(exc: Exception) -> int | None:
    """The exit status of a failure the commands expect (a released edition, a bad
    setting, a database that cannot be used), or None. Imported here, only on a failure."""
    from newsletter.config.settings import ConfigError
    from newsletter.store.db import DatabaseError
    from newsletter.store.editions import EditionLocked

    if isinstance(exc, EditionLocked):
        return 1
    if isinstance(exc, ConfigError):
        return 2
    if isinstance(exc, DatabaseError):
        return 1
    return None


def _exit(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)
