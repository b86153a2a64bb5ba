"""``newsletter subscribers add|unsubscribe|import|list``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.common import fail, load_app, warn

subscribers_app = typer.Typer(help="Add, import and list subscribers.", no_args_is_help=True)


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
    from newsletter import words
    from newsletter.audience.records import InvalidSubscriber, make_record
    from newsletter.store.subscribers import add_one

    application = load_app()
    try:
        record = make_record(email, name, topics, timezone)
    except InvalidSubscriber as exc:
        fail(str(exc), 2)
    result = add_one(application.sessions, record, source="cli")
    verb = "added" if result.created else "updated"
    typer.echo(f"{verb} {record.email} ({result.status})")
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
    from newsletter.store.subscribers import unsubscribe_address

    application = load_app()
    stored = unsubscribe_address(application.sessions, email)
    if stored is None:
        fail(f"no subscriber {email.strip()}")
    typer.echo(f"unsubscribed {stored}")


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
    from newsletter.audience.records import InvalidSubscriber, import_csv

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
    from newsletter.store.subscribers import subscriber_counts, subscriber_rows

    application = load_app()
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
        for s in subscriber_rows(application.sessions)
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
    counts = subscriber_counts(application.sessions)
    typer.echo(
        ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        or "no subscribers"
    )
