"""``newsletter articles list``: what was gathered, for an operator to check."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Annotated

import typer

from newsletter.cli.common import load_app, parse_from

articles_app = typer.Typer(help="See the articles gathered.", no_args_is_help=True)

#: How far back ``articles list`` reaches without ``--since``.
DEFAULT_SINCE = timedelta(hours=48)


@articles_app.command("list")
def articles_list(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="ISO date-time; without an offset, local time in NEWSLETTER_TIMEZONE "
            "(default: 48 hours ago).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the articles published since --since, newest first.

    ``--json`` prints ``[{"id", "url", "title", "published_at", "source", "section",
    "language"}]``: ``published_at`` in UTC ISO 8601, ``source`` the feed URL or file,
    ``section`` the article's category. The table shows local times; ``~`` marks a time
    first seen (the source's date could not be read).
    """
    from newsletter.store.articles import articles_published_since
    from newsletter.timeutil import utcnow

    application = load_app()
    start = parse_from(since, application, "--since") if since else utcnow() - DEFAULT_SINCE
    rows = articles_published_since(application.sessions, start)
    if as_json:
        listed = [
            {
                "id": row.id,
                "url": row.url,
                "title": row.title,
                "published_at": row.published_at.astimezone(UTC).isoformat(),
                "source": row.source,
                "section": row.section,
                "language": row.language,
            }
            for row in rows
        ]
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    zone = application.settings.zone
    for row in rows:
        local = row.published_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        mark = "~" if row.published_estimated else " "
        typer.echo(
            f"{row.id:>6}  {local}{mark} {row.section or '-':<14.14} {row.language or '-':<3} "
            f"{(row.source_name or row.source):<20.20}  {row.title}"
        )
    count = len(rows)
    typer.echo(
        f"{count} {'article' if count == 1 else 'articles'} published since "
        f"{start.astimezone(zone).isoformat(timespec='minutes')}"
    )
